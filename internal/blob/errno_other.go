//go:build !unix

package blob

// Without Unix errnos only ENOSPC (in IsNoSpace) and the error text tell a
// full disk.
func isQuotaErrno(error) bool { return false }

func isTransientErrno(error) bool { return false }
