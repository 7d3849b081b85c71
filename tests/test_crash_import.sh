#!/bin/sh
# test_crash_import.sh - SIGKILL `recoscope import` at seeded random points of an import
# and check that the database is intact and holds all of that import or none of it,
# and that re-running the import completes it.
#   RS_BIN  the recoscope binary (meson sets it)
#   RS_CRASH_RUNS  number of kills (default 6), RS_CRASH_SEED  random seed (default 1)
set -u
bin=${RS_BIN:?RS_BIN must name the recoscope binary}
runs=${RS_CRASH_RUNS:-6}
seed=${RS_CRASH_SEED:-1}
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: no sqlite3 shell"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

# A world whose second half of receipts is the import under test.
"$bin" synth --out "$tmp/w" --seed 3 --cities 3 --departments 8 --categories 60 \
    --products 2000 --receipts 24000 >/dev/null || fail "synth"
r=$tmp/w/receipts.csv
total=$(wc -l <"$r")
half=$((total / 2))
head -n "$half" "$r" >"$tmp/r1.csv"
{ head -n 1 "$r"; tail -n +"$((half + 1))" "$r"; } >"$tmp/r2.csv"

base=$tmp/base.db
"$bin" --db "$base" import -q --threads 2 --products "$tmp/w/products.csv" \
    --categories "$tmp/w/categories.csv" "$tmp/r1.csv" || fail "base import"

counts() { # db -> "products receipts lines qty ledger cities popularity"
    sqlite3 "$1" "SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM receipts),
        (SELECT count(*) FROM receipt_items), (SELECT coalesce(sum(quantity), 0) FROM receipt_items),
        (SELECT count(*) FROM import_ledger), (SELECT count(*) FROM cities),
        (SELECT count(*) FROM product_popularity)"
}
integrity() {
    out=$(sqlite3 "$1" "PRAGMA integrity_check; PRAGMA foreign_key_check;" 2>&1)
    [ "$out" = "ok" ] || fail "$2: integrity_check says: $out"
}
copy_db() { # src dst: the database with its WAL
    rm -f "$2" "$2-wal" "$2-shm"
    sqlite3 "$1" ".backup '$2'" || fail "backup of $1"
}

before=$(counts "$base")
# reference: the complete import, timed
copy_db "$base" "$tmp/ref.db"
t0=$(date +%s%N)
"$bin" --db "$tmp/ref.db" import -q --threads 2 "$tmp/r2.csv" || fail "reference import"
t1=$(date +%s%N)
after=$(counts "$tmp/ref.db")
dur_ms=$(((t1 - t0) / 1000000))
echo "before: $before"
echo "after:  $after (complete import took ${dur_ms} ms)"
[ "$before" != "$after" ] || fail "the import under test changes nothing"

# delays spread over [0, 1.2 x duration], from a seeded generator
delays=$(awk -v n="$runs" -v s="$seed" -v d="$dur_ms" \
    'BEGIN { srand(s); for (i = 0; i < n; i++) printf "%d ", rand() * d * 1.2 }')
i=0
got_none=0 got_all=0
for ms in $delays; do
    i=$((i + 1))
    db=$tmp/k$i.db
    copy_db "$base" "$db"
    "$bin" --db "$db" import -q --threads 2 "$tmp/r2.csv" >"$tmp/k$i.out" 2>&1 &
    pid=$!
    sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid"
    st=$?
    integrity "$db" "run $i (kill after $ms ms)"
    now=$(counts "$db")
    if [ "$now" = "$before" ]; then
        state=nothing
        got_none=$((got_none + 1))
    elif [ "$now" = "$after" ]; then
        state=everything
        got_all=$((got_all + 1))
    else
        fail "run $i (kill after $ms ms, exit $st): partial import: $now (before: $before, after: $after)"
    fi
    # the re-run completes the import (or skips it when it was complete)
    "$bin" --db "$db" import -q --threads 2 "$tmp/r2.csv" >"$tmp/k$i.re" 2>&1 ||
        fail "run $i: re-run failed: $(cat "$tmp/k$i.re")"
    integrity "$db" "run $i re-run"
    [ "$(counts "$db")" = "$after" ] || fail "run $i: after the re-run: $(counts "$db") != $after"
    echo "run $i: killed after $ms ms (exit $st): $state imported; re-run complete"
    rm -f "$db" "$db-wal" "$db-shm"
done
echo "kills: $i, nothing imported: $got_none, everything imported: $got_all"
[ "$i" -eq "$runs" ] || fail "only $i runs"
exit 0
