-- Exact row count of every table in the public schema, one "table<TAB>count" line each.
-- Used by pg-backup.sh (inside the dump's snapshot) and restore-check.sh.
SELECT table_name,
       (xpath('/row/c/text()',
              query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name),
                           false, true, '')))[1]::text::bigint AS row_count
FROM information_schema.tables
WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
ORDER BY table_name;
