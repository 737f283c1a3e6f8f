#!/usr/bin/env bash
# Checks a restored Facility database (and its files) during a restore drill.
#
#   1. row counts: compares every table with the .counts file written by pg-backup.sh
#      (skip with COUNTS_FILE unset, e.g. after a point-in-time recovery);
#   2. attachments: recomputes the SHA-256 of every stored file and compares it with
#      the checksum recorded in the database.
#
# Usage:
#   DATABASE_URL=postgres://...restored... \
#   COUNTS_FILE=/var/backups/facility/facility-20250101T020000Z.counts \
#   BLOB_DIR=/srv/restore/blobs            # file:// blob store restored to a folder
#   # or BLOB_MC=restore/facility          # S3: an `mc` alias/bucket holding the restored files
#   ATTACHMENT_SQL="SELECT storage_key, sha256_hex FROM attachments"   # see below
#   restore-check.sh
#
# ATTACHMENT_SQL must return two columns: the blob key (path under the blob root)
# and the SHA-256 as lowercase hex. Check the table and column names against the
# current schema in migrations/postgres before the drill.
# Exit status 0 only when every check passed.
set -euo pipefail

: "${DATABASE_URL:?set DATABASE_URL to the restored database}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
failed=0

if [[ -n ${COUNTS_FILE:-} ]]; then
  actual=$(mktemp)
  trap 'rm -f "$actual"' EXIT
  psql "$DATABASE_URL" -X -q -t -A -F $'\t' -v ON_ERROR_STOP=1 -f "$here/row-counts.sql" | sed '/^$/d' >"$actual"
  if diff -u "$COUNTS_FILE" "$actual"; then
    echo "row counts: $(wc -l <"$actual") tables match"
  else
    echo "row counts: MISMATCH (lines with - are from the backup, + from the restore)" >&2
    failed=1
  fi
fi

if [[ -n ${ATTACHMENT_SQL:-} ]]; then
  total=0 bad=0
  while IFS=$'\t' read -r key want; do
    [[ -z $key ]] && continue
    total=$((total + 1))
    if [[ -n ${BLOB_DIR:-} ]]; then
      got=
      [[ -f $BLOB_DIR/$key ]] && got=$(sha256sum <"$BLOB_DIR/$key" | cut -d' ' -f1)
    elif [[ -n ${BLOB_MC:-} ]]; then
      got=$(mc cat "$BLOB_MC/$key" 2>/dev/null | sha256sum | cut -d' ' -f1 || true)
    else
      echo "attachments: set BLOB_DIR or BLOB_MC" >&2
      exit 2
    fi
    if [[ $got != "$want" ]]; then
      bad=$((bad + 1))
      echo "attachment $key: want $want, got ${got:-missing}" >&2
    fi
  done < <(psql "$DATABASE_URL" -X -q -t -A -F $'\t' -v ON_ERROR_STOP=1 -c "$ATTACHMENT_SQL")
  echo "attachments: $((total - bad)) of $total match"
  [[ $bad -eq 0 ]] || failed=1
fi

if [[ $failed -ne 0 ]]; then
  echo "restore-check: FAILED" >&2
  exit 1
fi
echo "restore-check: passed"
