#!/bin/sh
# test_concurrent.sh - readers (`snapshot`, `recommend`, `stats`) in a loop while
# `import` and `train` write to the same database: every reader call exits 0 and no
# "database is locked"/"busy" reaches the user; the writers succeed too.
#   RS_BIN  the recoscope binary
set -u
bin=${RS_BIN:?RS_BIN must name the recoscope binary}
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: no sqlite3 shell"; exit 77; }
tmp=$(mktemp -d)
wpid=""
trap '[ -z "$wpid" ] || kill "$wpid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

"$bin" synth --out "$tmp/w" --seed 4 --cities 2 --departments 6 --categories 40 \
    --products 800 --receipts 9000 >/dev/null || fail "synth"
r=$tmp/w/receipts.csv
n=$(wc -l <"$r")
third=$((n / 3))
head -n "$third" "$r" >"$tmp/r1.csv"
{ head -n 1 "$r"; sed -n "$((third + 1)),$((2 * third))p" "$r"; } >"$tmp/r2.csv"
{ head -n 1 "$r"; tail -n +"$((2 * third + 1))" "$r"; } >"$tmp/r3.csv"
db=$tmp/c.db
quick="--kind product --min-receipts 1000000 --threads 1 --min_count 1"
"$bin" --db "$db" import -q --products "$tmp/w/products.csv" \
    --categories "$tmp/w/categories.csv" "$tmp/r1.csv" || fail "first import"
"$bin" --db "$db" train $quick --dim 8 --epochs 1 >"$tmp/t.out" 2>&1 ||
    fail "first train: $(cat "$tmp/t.out")"
pid_=$(sed -n 2p "$tmp/w/products.csv" | cut -d, -f1)

# the writers, one after the other, in the background
(
    "$bin" --db "$db" import -q --threads 2 "$tmp/r2.csv" || exit 11
    "$bin" --db "$db" train $quick --dim 16 --epochs 5 >/dev/null 2>&1 || exit 12
    "$bin" --db "$db" import -q --threads 2 "$tmp/r3.csv" || exit 13
    "$bin" --db "$db" train $quick --dim 16 --epochs 5 >/dev/null 2>&1 || exit 14
    exit 0
) >"$tmp/writer.out" 2>&1 &
wpid=$!

calls=0 failed=0
while kill -0 "$wpid" 2>/dev/null; do
    case $((calls % 3)) in
    0) "$bin" --db "$db" snapshot --rows 24 --cols 100 >"$tmp/rd.out" 2>&1 ;;
    1) "$bin" --db "$db" recommend --product "$pid_" -k 5 >"$tmp/rd.out" 2>&1 ;;
    2) "$bin" --db "$db" stats >"$tmp/rd.out" 2>&1 ;;
    esac
    st=$?
    calls=$((calls + 1))
    if [ $st -ne 0 ] || grep -qi 'locked\|busy' "$tmp/rd.out"; then
        failed=$((failed + 1))
        echo "reader call $calls (kind $(((calls - 1) % 3))) exit $st:"
        head -n 5 "$tmp/rd.out"
    fi
done
wait "$wpid"
wst=$?
wpid=""
[ $wst -eq 0 ] || fail "a writer failed (exit $wst: 11/13 import, 12/14 train): $(cat "$tmp/writer.out")"
grep -qi 'locked\|busy' "$tmp/writer.out" && fail "writer output: $(cat "$tmp/writer.out")"
echo "reader calls while writing: $calls, failed: $failed"
[ $failed -eq 0 ] || fail "$failed reader calls failed"
[ $calls -ge 3 ] || fail "only $calls reader calls overlapped the writers"
out=$(sqlite3 "$db" "PRAGMA integrity_check")
[ "$out" = "ok" ] || fail "integrity_check: $out"
exit 0
