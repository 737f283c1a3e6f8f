// Package blobtest wraps a file store so tests can make it fail the way a
// full disk or a failing service does, without root, loop devices or a
// real full volume.
package blobtest

import (
	"context"
	"io"
	"os"
	"sync"
	"syscall"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"
)

// ErrNoSpace is what a full disk answers a write with.
var ErrNoSpace error = syscall.ENOSPC

// Faulty is a bucket passing everything to another one, except that
// writes fail as told. Its methods may be called while uploads run.
type Faulty struct {
	inner *blob.Bucket

	mu sync.Mutex
	// after is how many bytes a file may have before writeErr (< 0: no fault).
	after    int64
	writeErr error
	closeErr error
}

// Wrap returns a bucket over inner that can be made to fail, and the
// switch to do so. Closing the bucket closes inner.
func Wrap(inner *blob.Bucket) (*blob.Bucket, *Faulty) {
	f := &Faulty{inner: inner, after: -1}
	return blob.NewBucket(&bucket{f: f}), f
}

// FailWritesAfter makes every file written from now on fail with err (as
// an *os.PathError, like a real write) once it has n bytes.
func (f *Faulty) FailWritesAfter(n int64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.after, f.writeErr = n, err
}

// FailClose makes finishing a file fail with err, keeping nothing, as a
// store that accepts the bytes but refuses them at the end does (a network
// file system, an S3 multipart upload).
func (f *Faulty) FailClose(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closeErr = err
}

// Heal removes every fault: space was freed, the service is back.
func (f *Faulty) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.after, f.writeErr, f.closeErr = -1, nil, nil
}

func (f *Faulty) faults() (after int64, writeErr, closeErr error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.after, f.writeErr, f.closeErr
}

type bucket struct{ f *Faulty }

func (b *bucket) NewTypedWriter(ctx context.Context, key, contentType string, o *driver.WriterOptions) (driver.Writer, error) {
	ctx, cancel := context.WithCancel(ctx)
	w, err := b.f.inner.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType, BufferSize: o.BufferSize,
		MaxConcurrency: o.MaxConcurrency, CacheControl: o.CacheControl, ContentDisposition: o.ContentDisposition,
		ContentEncoding: o.ContentEncoding, ContentLanguage: o.ContentLanguage, ContentMD5: o.ContentMD5, Metadata: o.Metadata,
		DisableContentTypeDetection: o.DisableContentTypeDetection, BeforeWrite: o.BeforeWrite, IfNotExist: o.IfNotExist})
	if err != nil {
		cancel()
		return nil, err
	}
	after, writeErr, closeErr := b.f.faults()
	return &writer{w: w, key: key, cancel: cancel, after: after, writeErr: writeErr, closeErr: closeErr}, nil
}

// writer writes through until its byte budget is spent, then fails as a
// full disk does: a short write and the error.
type writer struct {
	w                  *blob.Writer
	key                string
	cancel             context.CancelFunc
	n, after           int64
	writeErr, closeErr error
}

func (w *writer) Write(p []byte) (int, error) {
	if w.writeErr == nil || w.after < 0 {
		return w.w.Write(p)
	}
	room := max(w.after-w.n, 0)
	if int64(len(p)) <= room {
		n, err := w.w.Write(p)
		w.n += int64(n)
		return n, err
	}
	n, err := w.w.Write(p[:room])
	w.n += int64(n)
	if err != nil {
		return n, err
	}
	return n, &os.PathError{Op: "write", Path: w.key, Err: w.writeErr}
}

func (w *writer) Close() error {
	if w.closeErr != nil {
		// Nothing is kept: the inner writer is cancelled before closing.
		w.cancel()
		_ = w.w.Close()
		return &os.PathError{Op: "close", Path: w.key, Err: w.closeErr}
	}
	defer w.cancel()
	return w.w.Close()
}

func (b *bucket) NewRangeReader(ctx context.Context, key string, offset, length int64, o *driver.ReaderOptions) (driver.Reader, error) {
	r, err := b.f.inner.NewRangeReader(ctx, key, offset, length, nil)
	if err != nil {
		return nil, err
	}
	return &reader{r: r}, nil
}

type reader struct{ r *blob.Reader }

func (r *reader) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r *reader) Close() error               { return r.r.Close() }
func (r *reader) As(i any) bool              { return r.r.As(i) }
func (r *reader) Attributes() *driver.ReaderAttributes {
	return &driver.ReaderAttributes{ContentType: r.r.ContentType(), ModTime: r.r.ModTime(), Size: r.r.Size()}
}

func (b *bucket) ListPaged(ctx context.Context, o *driver.ListOptions) (*driver.ListPage, error) {
	size := o.PageSize
	if size <= 0 {
		size = 1000
	}
	token := o.PageToken
	if len(token) == 0 {
		token = blob.FirstPageToken
	}
	objs, next, err := b.f.inner.ListPage(ctx, token, size, &blob.ListOptions{Prefix: o.Prefix, Delimiter: o.Delimiter})
	if err != nil && err != io.EOF {
		return nil, err
	}
	page := &driver.ListPage{NextPageToken: next}
	for _, x := range objs {
		page.Objects = append(page.Objects, &driver.ListObject{Key: x.Key, ModTime: x.ModTime, Size: x.Size, MD5: x.MD5, IsDir: x.IsDir, AsFunc: x.As})
	}
	return page, nil
}

func (b *bucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	a, err := b.f.inner.Attributes(ctx, key)
	if err != nil {
		return nil, err
	}
	return &driver.Attributes{CacheControl: a.CacheControl, ContentDisposition: a.ContentDisposition, ContentEncoding: a.ContentEncoding,
		ContentLanguage: a.ContentLanguage, ContentType: a.ContentType, Metadata: a.Metadata, CreateTime: a.CreateTime,
		ModTime: a.ModTime, Size: a.Size, MD5: a.MD5, ETag: a.ETag, AsFunc: a.As}, nil
}

func (b *bucket) Copy(ctx context.Context, dst, src string, _ *driver.CopyOptions) error {
	return b.f.inner.Copy(ctx, dst, src, nil)
}

func (b *bucket) Delete(ctx context.Context, key string, _ *driver.DeleteOptions) error {
	return b.f.inner.Delete(ctx, key)
}

func (b *bucket) SignedURL(ctx context.Context, key string, o *driver.SignedURLOptions) (string, error) {
	return b.f.inner.SignedURL(ctx, key, &blob.SignedURLOptions{Expiry: o.Expiry, Method: o.Method, ContentType: o.ContentType})
}

// Errors from inner already carry their code; pass it on.
func (b *bucket) ErrorCode(err error) gcerrors.ErrorCode { return gcerrors.Code(err) }
func (b *bucket) As(i any) bool                          { return b.f.inner.As(i) }
func (b *bucket) ErrorAs(err error, i any) bool          { return b.f.inner.ErrorAs(err, i) }
func (b *bucket) Close() error                           { return b.f.inner.Close() }
