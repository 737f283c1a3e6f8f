//go:build unix

package blob

import (
	"errors"
	"syscall"
)

func isQuotaErrno(err error) bool { return errors.Is(err, syscall.EDQUOT) }

func isTransientErrno(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.ETIMEDOUT) || errors.Is(err, syscall.ESTALE)
}
