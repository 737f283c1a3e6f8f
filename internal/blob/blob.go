// Package blob opens Facility's file store: a folder on disk by default
// (file://), S3 or a compatible service (s3://), or memory (mem://, for
// tests). The rest of Facility sees only gocloud.dev's *blob.Bucket, so the
// store can change without touching the code that keeps files.
package blob

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"
)

// Store is an open file store.
type Store struct {
	*blob.Bucket
	// Scheme is file, s3 or mem.
	Scheme string
}

// Open opens the store at location, a URL such as
// file:///var/lib/facility/blobs?create_dir=true, s3://bucket?region=eu-west-1
// or mem://.
func Open(ctx context.Context, location string) (*Store, error) {
	u, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("blob store URL: %w", err)
	}
	mux := new(blob.URLMux)
	mux.RegisterBucket(fileblob.Scheme, &fileblob.URLOpener{})
	mux.RegisterBucket(memblob.Scheme, &memblob.URLOpener{})
	mux.RegisterBucket(s3blob.Scheme, new(s3blob.URLOpener))
	if u.Scheme == fileblob.Scheme {
		q := u.Query()
		// Half-written files live next to their final place, on the same
		// volume as the store (a full /tmp then cannot break uploads, and
		// the final rename never crosses devices); the content type is kept
		// in the database, so no sidecar attribute files.
		if q.Get("no_tmp_dir") == "" {
			q.Set("no_tmp_dir", "true")
		}
		if q.Get("metadata") == "" {
			q.Set("metadata", "skip")
		}
		u.RawQuery = q.Encode()
	}
	b, err := mux.OpenBucketURL(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("open blob store %s://: %w", u.Scheme, err)
	}
	if ok, err := b.IsAccessible(ctx); err != nil || !ok {
		_ = b.Close()
		if err == nil {
			err = errors.New("not accessible")
		}
		return nil, fmt.Errorf("blob store %s:// is not usable: %w", u.Scheme, err)
	}
	return &Store{Bucket: b, Scheme: u.Scheme}, nil
}

// WriterOptions are the options for writing one file of the given type.
// Uploads to S3 go in single 5 MB parts, one at a time, so a file never
// costs more than one part of memory however many arrive at once.
func (s *Store) WriterOptions(contentType string) *blob.WriterOptions {
	o := &blob.WriterOptions{ContentType: contentType, DisableContentTypeDetection: contentType == ""}
	if s.Scheme == s3blob.Scheme {
		o.BufferSize, o.MaxConcurrency = 5<<20, 1
	}
	return o
}

// IsNotFound reports whether err says a blob does not exist.
func IsNotFound(err error) bool { return gcerrors.Code(err) == gcerrors.NotFound }

// IsNoSpace reports whether err says the store is full: the disk or a
// quota of a file store (ENOSPC, EDQUOT), or an S3-compatible service
// that says it is out of space or over its quota (MinIO answers 507
// XMinioStorageFull). gocloud's ResourceExhausted counts too.
func IsNoSpace(err error) bool {
	if err == nil {
		return false
	}
	if gcerrors.Code(err) == gcerrors.ResourceExhausted || errors.Is(err, syscall.ENOSPC) || isQuotaErrno(err) {
		return true
	}
	if code, status := apiError(err); status == http.StatusInsufficientStorage || slices.Contains(noSpaceCodes, code) {
		return true
	}
	// Some layers (FUSE, network file systems behind a driver) flatten the
	// errno into text.
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "no space left on device") || strings.Contains(m, "disk quota exceeded")
}

// noSpaceCodes are S3 error codes meaning "out of space" (MinIO, Ceph).
var noSpaceCodes = []string{"XMinioStorageFull", "XMinioAdminBucketQuotaExceeded", "QuotaExceeded", "InsufficientStorage"}

// transientCodes are S3 error codes worth retrying a little later.
var transientCodes = []string{"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "XMinioServerNotInitialized"}

// IsTransient reports whether err is a failure of the store likely to pass
// by itself (a timeout, a store unreachable, busy or restarting), so the
// request is worth retrying later rather than reported as a fault.
func IsTransient(err error) bool {
	if err == nil || IsNoSpace(err) {
		return false
	}
	if gcerrors.Code(err) == gcerrors.DeadlineExceeded {
		return true
	}
	if code, status := apiError(err); slices.Contains(transientCodes, code) ||
		status == http.StatusInternalServerError || status == http.StatusBadGateway ||
		status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.As(err, new(*net.OpError)) || errors.Is(err, context.DeadlineExceeded) || isTransientErrno(err)
}

// apiError digs out the error code and HTTP status an S3-compatible
// service answered with, if err carries them (smithy.APIError and the
// SDK's response error have these methods).
func apiError(err error) (code string, status int) {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var he interface{ HTTPStatusCode() int }
	if errors.As(err, &he) {
		status = he.HTTPStatusCode()
	}
	return code, status
}
