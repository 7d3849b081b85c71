#!/bin/sh
# test_planted.sh - synth -> import -> train -> check against truth.json (issue 3):
# synonyms recover the planted substitute groups (precision@5 >= 0.8 over products with
# >= 50 receipts) and the category model ranks the planted complementary categories in
# its top 5 for >= 0.8 of the pairs.  A small world and few epochs keep it quick under
# ASan.  Needs RS_BIN (the recoscope binary) and PLANTED_CHECK (tests/planted_check).
set -eu
: "${RS_BIN:?RS_BIN must point at the recoscope binary}"
: "${PLANTED_CHECK:?PLANTED_CHECK must point at planted_check}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/rs-planted.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
db="$dir/world.db"
"$RS_BIN" synth --out "$dir/w" --seed 7 --cities 2 --departments 8 --categories 40 \
    --products 500 --receipts 15000 >/dev/null
"$RS_BIN" --db "$db" import --products "$dir/w/products.csv" \
    --categories "$dir/w/categories.csv" "$dir/w/receipts.csv" >/dev/null
# city 0 only (--min-receipts above every city), product and category models
"$RS_BIN" --db "$db" train --kind product --epochs 10 --threads 2 --min-receipts 1000000
"$RS_BIN" --db "$db" train --kind category --epochs 10 --threads 2 --min-receipts 1000000
# the runs table holds one row per run and the trained models are active
runs=$(sqlite3 "$db" "SELECT COUNT(*) FROM runs WHERE kind IN ('product','category')" 2>/dev/null || echo skip)
if [ "$runs" != skip ] && [ "$runs" -lt 2 ]; then
    echo "expected >= 2 runs rows, got $runs" >&2
    exit 1
fi
"$PLANTED_CHECK" "$db" "$dir/w/truth.json" 0.8
