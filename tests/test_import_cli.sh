#!/usr/bin/env bash
# test_import_cli.sh - `recoscope import` and `recoscope stats` from the command line:
# exit codes, messages on stderr, the ledger skip, atomicity, mapping flags, JSON stats.
set -u
bin=${RS_BIN:?RS_BIN must point at the recoscope binary}
dir=$(mktemp -d "${TMPDIR:-/tmp}/rsimport-XXXXXX")
trap 'rm -rf "$dir"' EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); }
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect_rc() { # expect_rc WANT DESCRIPTION CMD...
    local want=$1 what=$2
    shift 2
    "$@" >"$dir/out" 2>"$dir/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else fail "$what: exit $rc, expected $want ($(head -c 300 "$dir/err"))"; fi
}
has() { # has FILE TEXT DESCRIPTION
    if grep -qF -- "$2" "$1"; then ok; else fail "$3: '$2' not in $(head -c 400 "$1")"; fi
}
db=$dir/t.db
cat >"$dir/products.csv" <<'CSV'
product_id,name,category,department
p1,Milk,dairy,fresh
p2,Cheese,dairy,fresh
p3,Bread,bakery,baked
CSV
printf 'receipt_id,product_id,city,quantity\nr1,p1,Berlin,1\nr1,p2,Berlin,2\nr2,p3,Paris,1\nr3,p1,Paris,1\nr3,p3,Paris,1\n' >"$dir/receipts.csv"

expect_rc 0 "import --help" "$bin" import --help
has "$dir/out" "--preset" "import --help lists presets"
expect_rc 0 "stats --help" "$bin" stats --help
expect_rc 1 "unknown preset" "$bin" --db "$db" import --preset nonesuch x
expect_rc 1 "nothing to import" "$bin" --db "$db" import
expect_rc 1 "unknown option" "$bin" --db "$db" import --frobnicate receipts.csv

expect_rc 0 "import" "$bin" --db "$db" import --products "$dir/products.csv" "$dir/receipts.csv"
has "$dir/out" "3 receipts" "import summary"
expect_rc 0 "re-import" "$bin" import --products "$dir/products.csv" "$dir/receipts.csv" --db "$db"
has "$dir/err" "already imported" "re-import message on stderr"
has "$dir/out" "0 receipts" "re-import adds nothing"

# a bad file: exit 2, file:line:column on stderr, database byte for byte unchanged
printf 'receipt_id,product_id,city\nr4,p1,Berlin\nr5,"p2,Berlin\n' >"$dir/bad.csv"
before=$(sha256sum "$db" | cut -d' ' -f1)
expect_rc 2 "bad file" "$bin" --db "$db" import "$dir/bad.csv"
has "$dir/err" "$dir/bad.csv:3:4: unterminated quote" "error position"
after=$(sha256sum "$db" | cut -d' ' -f1)
[ "$before" = "$after" ] && ok || fail "database changed by a failed import"

# flags: other column names, semicolons, default city
printf 'Bon;Art\nb1;p1\nb1;p3\n' >"$dir/other.csv"
expect_rc 0 "column flags" "$bin" --db "$db" import --receipt-col Bon --product-col Art \
    --delimiter ';' --default-city Hamburg "$dir/other.csv"
expect_rc 0 "stats" "$bin" --db "$db" stats
has "$dir/out" "4 receipts" "stats receipts"
has "$dir/out" "Hamburg" "stats cities"
has "$dir/out" "top products" "stats top products"
expect_rc 0 "stats --json" "$bin" --db "$db" stats --json --city Paris
has "$dir/out" '"city":"Paris"' "json city"
has "$dir/out" '"receipts":2,' "json receipts of Paris"
has "$dir/out" '"top_products":[{"id":"p3"' "json top product of Paris"
if command -v python3 >/dev/null; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["lines"]==3, d' "$dir/out" \
        && ok || fail "stats --json is not the expected JSON"
fi
expect_rc 1 "stats unknown city" "$bin" --db "$db" stats --city Atlantis

# a mapping file with an unknown key names it
printf '{"receipts": {"receipt": "x"}}' >"$dir/map.json"
expect_rc 2 "bad mapping" "$bin" --db "$db" import --mapping "$dir/map.json" "$dir/other.csv"
has "$dir/err" '"receipts.receipt"' "mapping error names the key"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
