#!/usr/bin/env bash
# Nightly logical backup of the Facility PostgreSQL database.
#
# Writes, under BACKUP_DIR:
#   facility-<UTC time>.dump    pg_dump custom format
#   facility-<UTC time>.counts  exact row count per table, taken in the same snapshot
#                               as the dump (restore-check.sh compares against it)
#   facility-<UTC time>.sha256  checksums of the two files above
# and removes sets older than KEEP_DAYS.
#
# Usage: DATABASE_URL=postgres://... BACKUP_DIR=/var/backups/facility pg-backup.sh
# Needs psql and pg_dump of the server's major version or newer.
set -euo pipefail

: "${DATABASE_URL:?set DATABASE_URL to the postgres:// URL of the Facility database}"
BACKUP_DIR=${BACKUP_DIR:-/var/backups/facility}
KEEP_DAYS=${KEEP_DAYS:-14}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
counts_sql="$here/row-counts.sql"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
base="$BACKUP_DIR/facility-$stamp"
mkdir -p "$BACKUP_DIR"
umask 077

# One psql session holds a read-only snapshot open; the row counts and pg_dump
# both read from it, so the counts describe exactly what is in the dump.
coproc PSQL { psql "$DATABASE_URL" -X -q -t -A -F $'\t' -v ON_ERROR_STOP=1; }
# shellcheck disable=SC2153 # PSQL_PID is set by coproc
psql_pid=$PSQL_PID
to_psql=${PSQL[1]}
from_psql=${PSQL[0]}

printf '%s\n' 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;' 'SELECT pg_export_snapshot();' >&"$to_psql"
IFS= read -r snapshot <&"$from_psql"
[[ -n $snapshot ]] || { echo "pg-backup: could not export a snapshot" >&2; exit 1; }

{ cat "$counts_sql"; printf '%s\n' "SELECT '--end--';"; } >&"$to_psql"
: >"$base.counts.partial"
while IFS= read -r line <&"$from_psql"; do
  [[ $line == --end-- ]] && break
  [[ -n $line ]] && printf '%s\n' "$line" >>"$base.counts.partial"
done

pg_dump "$DATABASE_URL" --snapshot="$snapshot" --format=custom --no-owner --file="$base.dump.partial"

printf '%s\n' 'COMMIT;' '\q' >&"$to_psql"
wait "$psql_pid" || true

mv "$base.dump.partial" "$base.dump"
mv "$base.counts.partial" "$base.counts"
(cd "$BACKUP_DIR" && sha256sum "$(basename "$base.dump")" "$(basename "$base.counts")" >"$base.sha256")

find "$BACKUP_DIR" -maxdepth 1 -name 'facility-*' -type f -mtime +"$KEEP_DAYS" -delete

echo "pg-backup: wrote $base.dump ($(wc -l <"$base.counts") tables counted)"
