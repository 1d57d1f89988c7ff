#!/usr/bin/env bash
# Backup/restore benchmark: `oml backup` / `oml restore` against the original
# OMniLeads method (backup: `pg_dump -F t` + `tar czf`; restore: `tar xzf` +
# `pg_restore`) on the same generated installation, in one run.
#
# Usage (from the repository root):
#   scripts/bench-backup.sh [SIZE_GB] [REPORT]
#   e.g. scripts/bench-backup.sh 2 docs/BACKUP-BENCH.md
# Environment:
#   OML_BENCH_DATABASE_URL  PostgreSQL server with a CREATEDB role
#                           (default postgres://oml_test:oml_test@127.0.0.1:5432/oml_test)
#   OML                     the oml binary, used for `oml init` (default
#                           target/release/oml, else target/debug/oml)
#   BENCH                   the binary measured (default $OML): either `oml`
#                           (runs `oml backup --with-recordings` and `oml restore
#                           NAME --yes`) or the release build of
#                           `cargo build --release -p oml-backup --example backup_bench`
#                           (the same library calls without the rest of the
#                           binary, quicker to build on a busy machine)
#   WORK                    scratch folder (default /tmp/oml-bench-backup)
# The password is never put on a command line: the tools get PGPASSWORD.
set -euo pipefail

SIZE_GB=${1:-2}
REPORT=${2:-docs/BACKUP-BENCH.md}
URL=${OML_BENCH_DATABASE_URL:-postgres://oml_test:oml_test@127.0.0.1:5432/oml_test}
T=${CARGO_TARGET_DIR:-target}
OML=${OML:-$( [ -x "$T/release/oml" ] && echo "$T/release/oml" || echo "$T/debug/oml" )}
BENCH=${BENCH:-$OML}
WORK=${WORK:-/tmp/oml-bench-backup}

[ -x "$OML" ] || { echo "no oml binary at $OML: cargo build --release -p oml" >&2; exit 1; }
[ -x "$BENCH" ] || { echo "no binary at $BENCH" >&2; exit 1; }
case "$(basename "$BENCH")" in
  oml) BACKUP_ARGS=(backup --with-recordings); RESTORE_ARGS=(restore NAME --yes) ;;
  *)   BACKUP_ARGS=(backup); RESTORE_ARGS=(restore NAME) ;;
esac
for t in pg_dump pg_restore psql /usr/bin/time python3 tar gzip; do
  command -v "$t" >/dev/null || { echo "missing $t (Debian: postgresql-client, time, python3)" >&2; exit 1; }
done

# Split the URL: postgres://user:pass@host:port/db
rest=${URL#*://}; auth=${rest%%@*}; hostpart=${rest#*@}; hostport=${hostpart%%/*}
PGUSER_=${auth%%:*}; export PGPASSWORD=${auth#*:}
base_nopw="postgres://${PGUSER_}@${hostport}"
DB="oml_bench_$(date +%s)"
DB2="${DB}_orig"
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 "${base_nopw}/postgres" "$@"; }

cleanup() {
  psql_admin -c "DROP DATABASE IF EXISTS ${DB}" -c "DROP DATABASE IF EXISTS ${DB2}" \
    -c "DROP DATABASE IF EXISTS ${DB}_pre" >/dev/null 2>&1 || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

rm -rf "$WORK"; mkdir -p "$WORK/data" "$WORK/orig"
DATA="$WORK/data"
export OML_DATABASE_URL="postgres://${PGUSER_}:${PGPASSWORD}@${hostport}/${DB}"
export OML_HOME="$DATA"

echo "== generating an installation of ${SIZE_GB} GB in $WORK"
psql_admin -c "CREATE DATABASE ${DB}"
printf 'bench-password-1\n' > "$WORK/pw"
"$OML" init --admin-password-file "$WORK/pw" >/dev/null
# Database: about 30 % of the size, audit rows with high-entropy text.
DB_BYTES=$(python3 -c "print(int($SIZE_GB * 0.30 * 2**30))")
ROWS=$((DB_BYTES / 300))
psql -X -q -v ON_ERROR_STOP=1 "${base_nopw}/${DB}" -c "
  INSERT INTO audit_log (at, actor, action, subject, ip, detail)
  SELECT 1790000000000 + i * 1000, 'agent' || (i % 500), 'call.' || (i % 7),
         '+54911' || lpad((i * 7919 % 100000000)::text, 8, '0'),
         '10.0.' || (i % 250) || '.' || (i % 200),
         md5(i::text) || md5((i * 31)::text) || md5((i * 17)::text) || md5((i * 13)::text)
  FROM generate_series(1::bigint, ${ROWS}::bigint) AS i"
# Recordings: the rest; 75 % mp3 (incompressible), 25 % PCM wav (compressible).
python3 - "$DATA/recordings" "$SIZE_GB" <<'PY'
import os, sys
root, size_gb = sys.argv[1], float(sys.argv[2])
total = int(size_gb * 0.70 * 2**30)
mp3_total, wav_total = int(total * 0.75), total - int(total * 0.75)
hi = bytes((b & 0x0F) for b in range(256))
n = 0
def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
done = 0
while done < mp3_total:
    d = os.urandom(4 << 20)
    put(f"{root}/2026/{n % 12 + 1:02d}/{n % 28 + 1:02d}/call-{n}.mp3", d)
    done += len(d); n += 1
done = 0
while done < wav_total:
    d = bytearray(os.urandom(8 << 20))
    d[1::2] = bytes(d[1::2]).translate(hi)  # quiet 16-bit samples
    put(f"{root}/2026/{n % 12 + 1:02d}/{n % 28 + 1:02d}/call-{n}.wav", bytes(d))
    done += len(d); n += 1
print(f"{n} recordings")
PY
DBSIZE=$(psql -X -t -A "${base_nopw}/${DB}" -c "SELECT pg_database_size('${DB}')")
RECSIZE=$(du -sb "$DATA/recordings" | cut -f1)
sync
cat $(find "$DATA/recordings" -type f) > /dev/null   # same warm cache for both

measure() { # label, command...
  local out="$WORK/time-$1.txt"; shift
  /usr/bin/time -v -o "$out" "$@" > "$WORK/out.txt" 2>&1 || { cat "$WORK/out.txt" "$out" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out")
  echo "$wall $rss"
}

echo "== oml backup"
read -r OB_T OB_M < <(measure oml-backup "$BENCH" "${BACKUP_ARGS[@]}")
NAME=$(ls "$DATA/backup" | grep -- '-oml-backup.tar.zst$' | tail -1)
OB_SIZE=$(stat -c %s "$DATA/backup/$NAME")

echo "== original: pg_dump -F t + tar czf"
read -r GB_T GB_M < <(measure orig-backup sh -c "pg_dump -F t -f '$WORK/orig/db.tar' --dbname='${base_nopw}/${DB}' && tar czf '$WORK/orig/backup.tgz' -C '$WORK/orig' db.tar -C '$DATA' recordings")
GB_SIZE=$(stat -c %s "$WORK/orig/backup.tgz")

echo "== oml restore"
read -r OR_T OR_M < <(measure oml-restore "$BENCH" "${RESTORE_ARGS[@]/NAME/$NAME}")

echo "== original: tar xzf + pg_restore into a fresh database"
psql_admin -c "CREATE DATABASE ${DB2}"
mkdir -p "$WORK/orig/x"
read -r GR_T GR_M < <(measure orig-restore sh -c "tar xzf '$WORK/orig/backup.tgz' -C '$WORK/orig/x' && pg_restore --no-owner -d '${base_nopw}/${DB2}' '$WORK/orig/x/db.tar'")

python3 - "$REPORT" <<PY
import sys, platform, os
r = dict(ob_t=$OB_T, ob_m=$OB_M, gb_t=$GB_T, gb_m=$GB_M, or_t=$OR_T, or_m=$OR_M, gr_t=$GR_T, gr_m=$GR_M)
cpu = next((l.split(':',1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')
mib = lambda kb: f"{kb/1024:.0f} MiB"
gib = lambda b: f"{b/2**30:.2f} GiB"
lines = f"""# Backup and restore benchmark

Generated by \`scripts/bench-backup.sh $SIZE_GB $REPORT\` (measured binary: \`$(basename "$BENCH")\`) on $(date -u +%Y-%m-%dT%H:%MZ)
({os.cpu_count()} CPUs, {cpu}; page cache warm for both methods; PostgreSQL 15 on 127.0.0.1).

Installation: PostgreSQL database {gib($DBSIZE)} (audit rows with high-entropy text)
+ recordings {gib($RECSIZE)} (75 % .mp3-like incompressible, 25 % 16-bit PCM .wav)
= {gib($DBSIZE + $RECSIZE)}.

| | oml | original (pg_dump -F t + tar czf) | ratio |
|---|---|---|---|
| backup wall time | {r['ob_t']:.1f} s | {r['gb_t']:.1f} s | **{r['gb_t']/r['ob_t']:.1f}x faster** |
| backup peak memory (max RSS incl. children) | {mib(r['ob_m'])} | {mib(r['gb_m'])} | |
| archive size | {gib($OB_SIZE)} | {gib($GB_SIZE)} | {$OB_SIZE/$GB_SIZE:.2f} |
| restore wall time | {r['or_t']:.1f} s | {r['gr_t']:.1f} s | **{r['gr_t']/r['or_t']:.1f}x faster** |
| restore peak memory (max RSS incl. children) | {mib(r['or_m'])} | {mib(r['gr_m'])} | |

What each side does:
- oml backup: \`pg_dump --format=custom --compress=0\` to a temporary file, SHA-256 of
  every file (manifest first), then one streaming pass into tar → zstd level 3 on 
  all cores for compressible files, stored zstd frames (no recompression) for media;
  second SHA-256 on the way; fsync; rename. Everything is checked.
- original backup: \`pg_dump -F t\` then \`tar czf\` (single-threaded gzip -6 of everything,
  media included). Nothing is checked.
- oml restore: full verification while extracting into staging, pg_restore into a fresh
  database, migrations, atomic swap of database (rename) and recordings folder, removal
  of the previous state.
- original restore: \`tar xzf\` into a scratch folder and \`pg_restore\` into a fresh
  database (no verification, no swap: it favours the original).

Peak memory is \`/usr/bin/time -v\` "Maximum resident set size", which covers the
largest process among the command and its children (pg_dump, pg_restore, gzip).
"""
open(sys.argv[1], "w").write(lines)
print(lines)
PY
