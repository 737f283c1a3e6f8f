package attachments_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"syscall"
	"testing"

	gcblob "gocloud.dev/blob"

	"facility/internal/apptest"
	"facility/internal/attachments"
	"facility/internal/blob/blobtest"
)

// setupFaulty is setup on a file store that can be made to fail.
func setupFaulty(t *testing.T) (fixture, *blobtest.Faulty) {
	var fault *blobtest.Faulty
	env := apptest.NewWithOptions(t, apptest.Config(t), apptest.Options{WrapBlobs: func(b *gcblob.Bucket) *gcblob.Bucket {
		w, f := blobtest.Wrap(b)
		fault = f
		return w
	}})
	return setupOn(t, env), fault
}

// TESTPLAN REL-12 at the domain level: a full store refuses the file,
// keeps no row and no partial blob, leaves earlier files as they were, and
// takes files again as soon as space is freed.
func TestFullStoreKeepsNothingAndRecovers(t *testing.T) {
	f, fault := setupFaulty(t)
	earlier := pdf(200_000)
	prev, err := f.store(t, f.env.Attachments, "earlier.pdf", earlier)
	if err != nil {
		t.Fatal(err)
	}
	for name, inject := range map[string]func(){
		"disk full mid-file":      func() { fault.FailWritesAfter(100_000, syscall.ENOSPC) },
		"disk full at first byte": func() { fault.FailWritesAfter(0, syscall.ENOSPC) },
		"quota exceeded":          func() { fault.FailWritesAfter(50_000, syscall.EDQUOT) },
		"full when finishing":     func() { fault.FailClose(syscall.ENOSPC) },
	} {
		inject()
		_, err := f.store(t, f.env.Attachments, "new.pdf", pdf(300_000))
		if !errors.Is(err, attachments.ErrNoSpace) {
			t.Errorf("%s: %v, want ErrNoSpace", name, err)
		}
		if n := f.rows(t); n != 1 {
			t.Errorf("%s: %d rows", name, n)
		}
		if keys := f.stored(t); !slices.Equal(keys, []string{prev.BlobKey}) {
			t.Errorf("%s: store holds %v, want only the earlier file", name, keys)
		}
		fault.Heal()
	}
	assertIntact(t, f, prev.ID, earlier)

	// Space freed: the next upload goes through, no restart.
	again := pdf(300_000)
	a, err := f.store(t, f.env.Attachments, "new.pdf", again)
	if err != nil {
		t.Fatalf("after space was freed: %v", err)
	}
	assertIntact(t, f, a.ID, again)
	if n := f.rows(t); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}

// A store failing for a while (timeout, unreachable) is told apart from a
// full one and from other faults; either way nothing is kept.
func TestStoreFailuresAreClassified(t *testing.T) {
	f, fault := setupFaulty(t)
	for name, tc := range map[string]struct {
		inject func()
		want   error
	}{
		"timeout writing":   {func() { fault.FailWritesAfter(1000, syscall.ETIMEDOUT) }, attachments.ErrStoreUnavailable},
		"deadline at close": {func() { fault.FailClose(context.DeadlineExceeded) }, attachments.ErrStoreUnavailable},
		"permission denied": {func() { fault.FailWritesAfter(1000, syscall.EACCES) }, nil},
	} {
		tc.inject()
		_, err := f.store(t, f.env.Attachments, "new.pdf", pdf(100_000))
		fault.Heal()
		if err == nil {
			t.Errorf("%s: stored", name)
			continue
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		if tc.want == nil && (errors.Is(err, attachments.ErrNoSpace) || errors.Is(err, attachments.ErrStoreUnavailable)) {
			t.Errorf("%s: %v counted as full or passing", name, err)
		}
		if n, keys := f.rows(t), f.stored(t); n != 0 || len(keys) != 0 {
			t.Errorf("%s: kept %d rows, %v", name, n, keys)
		}
	}
}

// assertIntact reads attachment id back and checks its bytes and the
// SHA-256 on record.
func assertIntact(t *testing.T, f fixture, id string, want []byte) {
	t.Helper()
	a, err := f.env.Attachments.Get(t.Context(), f.p.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.env.Attachments.Open(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	sum := sha256.Sum256(want)
	if err != nil || !bytes.Equal(got, want) || a.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("file %s changed: %v, %d bytes, sha %s", id, err, len(got), a.SHA256)
	}
}
