package blob

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
)

// s3Error stands for what an S3-compatible service answers (the SDK's
// errors have these two methods).
type s3Error struct {
	code   string
	status int
}

func (e s3Error) Error() string       { return fmt.Sprintf("api error %s (%d)", e.code, e.status) }
func (e s3Error) ErrorCode() string   { return e.code }
func (e s3Error) HTTPStatusCode() int { return e.status }

func TestStoreErrorsAreClassified(t *testing.T) {
	wrap := func(err error) error {
		return fmt.Errorf("write blob: %w", &os.PathError{Op: "write", Path: "x", Err: err})
	}
	for name, tc := range map[string]struct {
		err                error
		noSpace, transient bool
	}{
		"ENOSPC":                      {wrap(syscall.ENOSPC), true, false},
		"EDQUOT":                      {wrap(syscall.EDQUOT), true, false},
		"ENOSPC as text":              {errors.New("sync: no space left on device"), true, false},
		"MinIO storage full":          {s3Error{"XMinioStorageFull", 507}, true, false},
		"any 507":                     {s3Error{"", 507}, true, false},
		"Ceph quota":                  {s3Error{"QuotaExceeded", 403}, true, false},
		"S3 slow down":                {s3Error{"SlowDown", 503}, false, true},
		"S3 internal error":           {s3Error{"InternalError", 500}, false, true},
		"gateway timeout":             {s3Error{"", 504}, false, true},
		"connection refused":          {&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, false, true},
		"deadline":                    {fmt.Errorf("upload: %w", context.DeadlineExceeded), false, true},
		"ETIMEDOUT":                   {wrap(syscall.ETIMEDOUT), false, true},
		"permission denied":           {wrap(syscall.EACCES), false, false},
		"access denied":               {s3Error{"AccessDenied", 403}, false, false},
		"read-only file system":       {wrap(syscall.EROFS), false, false},
		"nil":                         {nil, false, false},
		"client went away (canceled)": {context.Canceled, false, false},
	} {
		if got := IsNoSpace(tc.err); got != tc.noSpace {
			t.Errorf("%s: IsNoSpace = %v", name, got)
		}
		if got := IsTransient(tc.err); got != tc.transient {
			t.Errorf("%s: IsTransient = %v", name, got)
		}
	}
}
