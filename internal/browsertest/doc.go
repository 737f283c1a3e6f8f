// Package browsertest drives a real browser through Facility as people use
// it: the `facility serve --demo` binary runs as a subprocess on a loopback
// port, and Debian's Chromium (through chromedp) signs up, confirms an
// e-mail address, signs in with a second factor, switches language, grants
// a role and follows a challenge call from its design to the screening of a
// proposal, with a screenshot of every page it visits.
//
// The package holds tests only. They run when FACILITY_TEST_CHROMIUM names
// the Chromium executable (FACILITY_SCREENSHOTS names a folder for the
// screenshots, FACILITY_TEST_DATABASE_URL a PostgreSQL server to use instead
// of SQLite) and are skipped otherwise, so `go test ./...` passes on a
// machine with only Go. .ci/run sets them.
package browsertest
