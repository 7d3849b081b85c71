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

# ---- issue 11: one case per item, named i11_<item>_<what> ----------------------------
# no_controls FILE WHAT: FILE holds no C0 control but newline and no C1 control (UTF-8
# C2 80..C2 9F, or a raw 0x9B byte)
no_controls() {
    if LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\x9b' "$1"; then
        fail "$2: raw control bytes in $(od -c "$1" | head -5)"
    else ok; fi
}

i11_06_event_weights() {
    printf 'timestamp,visitorid,event,itemid\n1433221332,1,view,10\n' >"$dir/ev.csv"
    expect_rc 1 "i11_06 huge weight" "$bin" --db "$dir/i11_06.db" import --preset events \
        --event-weights view=1e38 "$dir/ev.csv"
    has "$dir/err" "--event-weights: weight 'view=1e38' is not a number from 0.001 to 1000" \
        "i11_06 message"
    [ ! -e "$dir/i11_06.db" ] && ok || fail "i11_06: a failed first import left a database"
    expect_rc 0 "i11_06 weight in range" "$bin" --db "$dir/i11_06.db" import --preset events \
        --event-weights view=1000 "$dir/ev.csv"
}

i11_08_timestamps() {
    printf 'receipt_id,product_id,timestamp\nr1,p1,2025-02-30\n' >"$dir/t1.csv"
    expect_rc 2 "i11_08 invalid date" "$bin" --db "$dir/i11_08.db" import \
        --products "$dir/products.csv" "$dir/t1.csv"
    has "$dir/err" "$dir/t1.csv:2:7: invalid timestamp '2025-02-30': no such day in that month" \
        "i11_08 file:line:column"
    printf 'receipt_id,product_id,timestamp\nr1,p1,200000000000\n' >"$dir/t2.csv"
    expect_rc 2 "i11_08 no unit guessing" "$bin" --db "$dir/i11_08.db" import \
        --products "$dir/products.csv" "$dir/t2.csv"
    has "$dir/err" "use --time-unit ms" "i11_08 hint"
    expect_rc 0 "i11_08 --time-unit ms" "$bin" --db "$dir/i11_08.db" import --time-unit ms \
        --products "$dir/products.csv" "$dir/t2.csv"
    expect_rc 1 "i11_08 bad unit" "$bin" --db "$dir/i11_08.db" import --time-unit us "$dir/t2.csv"
}

i11_10_summary() {
    printf 'product_id,name,category,department\np1,Chews,Snacks,Pets\np2,Crisps,Snacks,Grocery\np3,Saw,,Tools\n' >"$dir/p10.csv"
    printf 'receipt_id,product_id\nr1,p1\nr1,p1\nr1,p2\nr2,p3\n' >"$dir/r10.csv"
    expect_rc 0 "i11_10 import" "$bin" --db "$dir/i11_10.db" import --products "$dir/p10.csv" "$dir/r10.csv"
    has "$dir/out" "3 receipt lines (from 4 lines read" "i11_10 stored lines"
    has "$dir/out" "kept apart" "i11_10 equal names reported"
    expect_rc 0 "i11_10 stats" "$bin" --db "$dir/i11_10.db" stats
    has "$dir/out" "3 departments" "i11_10 Tools kept"
}

i11_13_streams() {
    expect_rc 2 "i11_13 /dev/zero" timeout 20 "$bin" --db "$dir/i11_13.db" import /dev/zero
    has "$dir/err" "/dev/zero:1:1: NUL byte" "i11_13 NUL reported"
    [ ! -e "$dir/i11_13.db" ] && ok || fail "i11_13: a failed first import left a database"
    cat "$dir/receipts.csv" | "$bin" --db "$dir/i11_13.db" import --products "$dir/products.csv" - \
        >"$dir/out" 2>"$dir/err" && ok || fail "i11_13 stdin: $(cat "$dir/err")"
    has "$dir/out" "3 receipts" "i11_13 stdin imported"
    mkfifo "$dir/fifo"
    printf 'receipt_id,product_id\nr9,p1\n' >"$dir/fifo" &
    expect_rc 0 "i11_13 fifo" timeout 20 "$bin" --db "$dir/i11_13.db" import "$dir/fifo"
    wait
    has "$dir/out" "1 receipts" "i11_13 fifo imported"
}

i11_15_sanitized() {
    # ESC, OSC 0 (title) and 52 (clipboard), CSI 2J, U+009B in a header and in values
    esc=$'\e' bel=$'\a' c1=$'\xc2\x9b'
    hdr="receipt_id,product_id,${esc}]0;pwned${bel}qty${esc}[2J${c1}"
    printf '%s\n' "$hdr" "r1,p1,1" >"$dir/h.csv"
    expect_rc 2 "i11_15 header" "$bin" --db "$dir/i11_15.db" import --products "$dir/products.csv" \
        --quantity-col quantity "$dir/h.csv"
    has "$dir/err" "missing required column 'quantity'" "i11_15 header message"
    no_controls "$dir/err" "i11_15 header"
    printf 'receipt_id,product_id\nr1,p1%s]52;c;aGk=%s\n' "$esc" "$bel" >"$dir/u.csv"
    expect_rc 2 "i11_15 unknown product" "$bin" --db "$dir/i11_15.db" import \
        --products "$dir/products.csv" "$dir/u.csv"
    has "$dir/err" "unknown product" "i11_15 unknown product message"
    no_controls "$dir/err" "i11_15 unknown product"
    printf 'receipt_id,product_id,quantity,timestamp\nr1,p1,1%s[2J,2024-01-01\n' "$esc" >"$dir/q.csv"
    expect_rc 2 "i11_15 quantity" "$bin" --db "$dir/i11_15.db" import --products "$dir/products.csv" "$dir/q.csv"
    no_controls "$dir/err" "i11_15 quantity"
    printf 'receipt_id,product_id,timestamp\nr1,p1,2024%s01-01\n' "$c1" >"$dir/t.csv"
    expect_rc 2 "i11_15 timestamp" "$bin" --db "$dir/i11_15.db" import --products "$dir/products.csv" "$dir/t.csv"
    has "$dir/err" "invalid timestamp" "i11_15 timestamp message"
    no_controls "$dir/err" "i11_15 timestamp"
    # warnings: an unknown product skipped (its id quoted), a file name with controls
    printf 'receipt_id,product_id\nr1,p1\nr2,zz%s[31m\n' "$esc" >"$dir/w${esc}[2J.csv"
    expect_rc 0 "i11_15 warning" "$bin" --db "$dir/i11_15.db" import --products "$dir/products.csv" \
        --unknown-products skip "$dir/w${esc}[2J.csv"
    has "$dir/err" "not in the catalogue" "i11_15 warning printed"
    no_controls "$dir/err" "i11_15 warning"
    no_controls "$dir/out" "i11_15 summary"
    expect_rc 0 "i11_15 again" "$bin" --db "$dir/i11_15.db" import "$dir/w${esc}[2J.csv"
    has "$dir/err" "already imported" "i11_15 notice"
    no_controls "$dir/err" "i11_15 notice"
}

i11_17_pipe_delimiter() {
    printf 'receipt_id|product_id|city\nr1|p1|Berlin\nr1|p2|Berlin\n' >"$dir/pipe.csv"
    expect_rc 0 "i11_17 | detected" "$bin" --db "$dir/i11_17.db" import --products "$dir/products.csv" "$dir/pipe.csv"
    has "$dir/out" "1 receipts, 2 receipt lines" "i11_17 imported"
    "$bin" import --help >"$dir/out"
    has "$dir/out" "',' ';' 'tab' or '|' (default: detected" "i11_17 documented"
}

i11_18_completejourney() {
    mkdir -p "$dir/cj"
    printf 'product_id,manufacturer_id,department,brand,product_category,product_type,package_size\n25671,2,GROCERY,National,FRZN ICE,ICE,22 LB\n' >"$dir/cj/products.csv"
    printf 'household_id,store_id,basket_id,product_id,quantity,sales_value,retail_disc,coupon_disc,coupon_match_disc,week,transaction_timestamp\n900,330,311,25671,1,0.5,0,0,0,1,1485630413.0\n900,330,311,99999,1,0.5,0,0,0,1,1485630413.0\n' >"$dir/cj/transactions.csv"
    expect_rc 0 "i11_18 R export" "$bin" --db "$dir/i11_18.db" import -q --preset completejourney "$dir/cj"
    has "$dir/err" "1 receipt line(s) name products that are not in the catalogue (the first: '99999'): skipped" \
        "i11_18 unknown products reported even with -q"
    printf 'citrus fruit,whole milk\nwhole milk,yogurt\n' >"$dir/groc.csv"
    expect_rc 2 "i11_18 basket file without preset" "$bin" --db "$dir/i11_18b.db" import "$dir/groc.csv"
    has "$dir/err" "use --preset basket-lines" "i11_18 hint"
    printf 'Item 1,Item 2\ncitrus fruit,whole milk\nwhole milk,yogurt\n' >"$dir/groch.csv"
    expect_rc 0 "i11_18 header" "$bin" --db "$dir/i11_18c.db" import --preset basket-lines "$dir/groch.csv"
    has "$dir/out" "line 1 taken as a header" "i11_18 header reported"
    has "$dir/out" "3 products" "i11_18 no junk products"
}

i11_06_event_weights
i11_08_timestamps
i11_10_summary
i11_13_streams
i11_15_sanitized
i11_17_pipe_delimiter
i11_18_completejourney

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
