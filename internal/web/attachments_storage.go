package web

import (
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"facility/internal/attachments"
)

// uploadMetrics count uploads the file store could not take, for alerts
// (deployments/runbooks/incidents.md, "Disk full").
type uploadMetrics struct {
	full        prometheus.Counter
	unavailable prometheus.Counter
}

func newUploadMetrics(reg prometheus.Registerer) *uploadMetrics {
	m := &uploadMetrics{
		full: prometheus.NewCounter(prometheus.CounterOpts{Name: "facility_upload_storage_full_total",
			Help: "Uploads refused because the file store is full (disk, quota or S3 service out of space)."}),
		unavailable: prometheus.NewCounter(prometheus.CounterOpts{Name: "facility_upload_storage_unavailable_total",
			Help: "Uploads that failed because the file store was unavailable for a while (timeout, unreachable, busy)."}),
	}
	reg.MustRegister(m.full, m.unavailable)
	return m
}

// Retry-After for uploads the file store refused: space must be freed by
// someone, or the store come back.
const (
	noSpaceRetryAfter     = "60"
	unavailableRetryAfter = "30"
)

// drainAfterStoreFailure reads and discards the rest of an upload the
// file store could not take. A client still sending its file when the
// answer comes and the connection closes gets a reset instead of the 507
// or 503 and its message (seen with a 5 MB file on a full disk); reading
// on costs bandwidth only, and stops at the upload request limit
// (limitBody) and the upload deadlines (extendDeadlines).
func drainAfterStoreFailure(r *http.Request, err error, progress func()) {
	if !errors.Is(err, attachments.ErrNoSpace) && !errors.Is(err, attachments.ErrStoreUnavailable) {
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			progress()
		}
		if err != nil {
			return
		}
	}
}
