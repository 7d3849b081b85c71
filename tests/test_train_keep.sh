#!/bin/sh
# test_train_keep.sh - train keeps the active model when the new one scores worse on the
# same validation part (both figures printed, the new one registered inactive); --force
# replaces it.
set -u
bin=${RS_BIN:?RS_BIN must name the recoscope binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
active() { sqlite3 "$tmp/t.db" "SELECT id FROM models WHERE active AND kind='product' AND city_id=0"; }
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: no sqlite3"; exit 77; }
"$bin" synth --out "$tmp/w" --seed 3 --cities 1 --products 400 --receipts 3000 >/dev/null || fail synth
"$bin" --db "$tmp/t.db" import -q --products "$tmp/w/products.csv" --categories "$tmp/w/categories.csv" \
    "$tmp/w/receipts.csv" || fail import
"$bin" --db "$tmp/t.db" train --kind product --threads 1 >/dev/null 2>&1 || fail "good train"
a1=$(active)
"$bin" --db "$tmp/t.db" train --kind product --threads 1 --epochs 1 --dim 2 >/dev/null 2>"$tmp/err" || fail "bad train"
grep -q "kept the active model #$a1" "$tmp/err" || fail "no 'kept' message: $(cat "$tmp/err")"
grep -q "registered inactive" "$tmp/err" || fail "not said inactive"
[ "$(active)" = "$a1" ] || fail "the active model changed"
[ "$(sqlite3 "$tmp/t.db" "SELECT count(*) FROM models WHERE kind='product'")" = 2 ] || fail "the new one is not registered"
"$bin" --db "$tmp/t.db" train --kind product --threads 1 --epochs 1 --dim 2 --force >/dev/null 2>"$tmp/err" || fail "forced train"
[ "$(active)" != "$a1" ] || fail "--force did not replace it"
echo ok
