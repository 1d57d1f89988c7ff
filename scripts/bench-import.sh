#!/usr/bin/env bash
# Contact-import benchmark: generates CSV files of N rows (default 100,000
# and 1,000,000; 0.1 % invalid numbers, 0.1 % duplicates), imports each with
# `oml campaign import` under `/usr/bin/time -v`, and prints rows/s and peak
# RSS per backend. Peak RSS that does not grow with N is the "flat memory"
# property. SQLite always; PostgreSQL when OML_BENCH_DATABASE_URL (or
# OML_TEST_DATABASE_URL) names a server whose role may CREATE DATABASE.
#
#   scripts/bench-import.sh                 # 100k and 1M rows
#   ROWS="1000000" scripts/bench-import.sh  # only 1M
#   OML=/path/to/oml scripts/bench-import.sh  # a prebuilt binary
#
# Writes the table to stdout and to $OUT (default bench-import.txt).
set -euo pipefail
# sqlx logs every statement slower than 1 s in full; keep the table readable.
export RUST_LOG=${RUST_LOG:-warn,sqlx=error}

ROWS=${ROWS:-"100000 1000000"}
OUT=${OUT:-bench-import.txt}
PG_URL=${OML_BENCH_DATABASE_URL:-${OML_TEST_DATABASE_URL:-}}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [[ -z "${OML:-}" ]]; then
    cargo build --release -p oml >&2
    OML="${CARGO_TARGET_DIR:-target}/release/oml"
fi
[[ -x "$OML" ]] || { echo "no oml binary at $OML" >&2; exit 1; }

gen_csv() { # rows file
    awk -v n="$1" 'BEGIN {
        print "phone,first_name,last_name,city,debt"
        for (i = 1; i <= n; i++) {
            if (i % 1000 == 0)      phone = "12345"                          # invalid: 5 digits
            else if (i % 1000 == 1 && i > 1) phone = sprintf("+54 11 %04d-%04d", int((i - 7) / 10000), (i - 7) % 10000)  # duplicate of row i-7
            else                    phone = sprintf("+54 11 %04d-%04d", int(i / 10000), i % 10000)
            printf "%s,Name%d,Surname%d,City %d,%d.%02d\n", phone, i, i, i % 97, i % 5000, i % 100
        }
    }' > "$2"
}

setup() { # data-dir [url]
    local data=$1 url=${2:-}
    local env=(env -u OML_DATABASE_URL OML_HOME="$data")
    [[ -n "$url" ]] && env+=(OML_DATABASE_URL="$url")
    printf 'bench-password-1\n' > "$WORK/pw"
    "${env[@]}" "$OML" init --admin-password-file "$WORK/pw" > /dev/null
    "${env[@]}" "$OML" trunk add carrier > /dev/null
    "${env[@]}" "$OML" campaign create bench > /dev/null
}

run_one() { # backend rows csv data [url]
    local backend=$1 rows=$2 csv=$3 data=$4 url=${5:-}
    local env=(env -u OML_DATABASE_URL OML_HOME="$data")
    [[ -n "$url" ]] && env+=(OML_DATABASE_URL="$url")
    "${env[@]}" /usr/bin/time -v -o "$WORK/time.txt" \
        "$OML" campaign import bench "$csv" --json --report "$WORK/rejected.csv" > "$WORK/summary.json"
    local secs rss imported rejected
    secs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$WORK/summary.json")
    imported=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["imported"])' "$WORK/summary.json")
    rejected=$(( rows - imported ))
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
    printf '%-11s %10d %10d %9d %9.1f %12.0f %10.1f\n' "$backend" "$rows" "$imported" "$rejected" \
        "$secs" "$(python3 -c "print($rows / $secs)")" "$(python3 -c "print($rss / 1024)")" | tee -a "$OUT"
}

: > "$OUT"
{
    echo "oml campaign import benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPU(s), $(uname -m)"
    printf '%-11s %10s %10s %9s %9s %12s %10s\n' BACKEND ROWS IMPORTED REJECTED SECONDS ROWS/S PEAK-RSS-MB
} | tee -a "$OUT"

for n in $ROWS; do
    csv="$WORK/contacts-$n.csv"
    gen_csv "$n" "$csv"
    setup "$WORK/sqlite-$n"
    run_one sqlite "$n" "$csv" "$WORK/sqlite-$n"
    if [[ -n "$PG_URL" ]]; then
        db="oml_bench_$$_$n"
        psql "$PG_URL" -qc "CREATE DATABASE $db" > /dev/null
        url="${PG_URL%/*}/$db"
        setup "$WORK/pg-$n" "$url"
        run_one postgresql "$n" "$csv" "$WORK/pg-$n" "$url"
        psql "$PG_URL" -qc "DROP DATABASE $db" > /dev/null
    else
        echo "SKIPPED: PostgreSQL (set OML_BENCH_DATABASE_URL)" | tee -a "$OUT"
    fi
    rm -f "$csv"
done
