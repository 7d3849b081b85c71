#!/bin/sh
# test_train_cli.sh - `recoscope train` and `eval` from the command line: the issue 11
# regressions of training (each case named i11_<item>_<what>), exit codes, what stays
# active when a fit fails, and what they print.
#   RS_BIN  the recoscope binary
set -u
bin=${RS_BIN:?RS_BIN must name the recoscope binary}
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: no sqlite3 shell"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
ok() { echo "ok: $*"; }

"$bin" synth --out "$tmp/w" --seed 3 --cities 2 --departments 4 --categories 20 \
    --products 300 --receipts 3000 >/dev/null || { echo "FAIL: synth"; exit 1; }
db=$tmp/t.db
"$bin" --db "$db" import -q --products "$tmp/w/products.csv" \
    --categories "$tmp/w/categories.csv" "$tmp/w/receipts.csv" || { echo "FAIL: import"; exit 1; }
quick="--min-receipts 1000000 --threads 1"
"$bin" --db "$db" train $quick --dim 8 --epochs 2 --als_factors 4 --als_iters 2 \
    >"$tmp/first.out" 2>&1 || { echo "FAIL: first train: $(cat "$tmp/first.out")"; exit 1; }
active() { # kind -> id of the active all-cities model
    sqlite3 "$db" "SELECT id FROM models WHERE city_id = 0 AND kind = '$1' AND active"
}
runs() { sqlite3 "$db" "SELECT count(*) FROM runs"; }

# expect_refusal NAME KIND WORD ARGS...: train exits 2 (not a signal), says WORD, and
# the kind's previous model stays active
expect_refusal() {
    name=$1 kind=$2 word=$3
    shift 3
    before=$(active "$kind")
    "$bin" --db "$db" train $quick --kind "$kind" "$@" >"$tmp/out" 2>&1
    rc=$?
    if [ $rc -ne 2 ]; then
        fail "$name: exit $rc, expected 2: $(tail -n 3 "$tmp/out")"
    elif ! grep -q "$word" "$tmp/out"; then
        fail "$name: no '$word' in: $(cat "$tmp/out")"
    elif [ "$(active "$kind")" != "$before" ]; then
        fail "$name: the active $kind model changed ($before -> $(active "$kind"))"
    else
        ok "$name"
    fi
}

# Item 2: a diverging SGNS run crashed a worker thread (SIGSEGV in the sigmoid lookup)
# before the "diverged" check; now it stops at the epoch it diverged in.
i11_02_lr_diverges() {
    expect_refusal i11_02_lr_diverges product diverged --lr 1 --threads 2
}
i11_02_ns_negative_diverges() {
    expect_refusal i11_02_ns_negative_diverges product diverged --ns_exponent 10 \
        --negative 1000 --epochs 2 --threads 2
}
# ... and inside a grid: a diverging combination is skipped, the others train; when all
# diverge the kind fails and the previous model stays.
i11_02_grid_diverges() {
    printf '{"lr": [1, 0.025], "epochs": [2], "dim": [8]}' >"$tmp/g1.json"
    "$bin" --db "$db" train $quick --kind product --grid "$tmp/g1.json" >"$tmp/out" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "i11_02_grid_diverges: exit $rc: $(tail -n 3 "$tmp/out")"
    elif ! grep -q "combination skipped" "$tmp/out" || ! grep -q "diverged" "$tmp/out"; then
        fail "i11_02_grid_diverges: no skipped combination in: $(cat "$tmp/out")"
    else
        ok "i11_02_grid_diverges (one of two)"
    fi
    printf '{"lr": [1, 5], "epochs": [2], "dim": [8]}' >"$tmp/g2.json"
    expect_refusal i11_02_grid_diverges product "every one of the 2 combinations failed" \
        --grid "$tmp/g2.json"
}

# Item 6: huge event weights made ALS write an all-NaN model, register it active and
# exit 0 (1e38), or fail with "ALS: solve failed (info 3)" (1e10..1e30).
i11_06_als_huge_weights() {
    cp "$db" "$tmp/w6.db"
    for wt in 1e38 1e20; do
        sqlite3 "$tmp/w6.db" "UPDATE receipt_items SET weight = $wt WHERE product_id % 7 = 0" \
            2>/dev/null || { echo "skip: i11_06 (weights $wt refused by the store)"; continue; }
        before=$(sqlite3 "$tmp/w6.db" "SELECT id FROM models WHERE city_id = 0 AND kind = 'als' AND active")
        "$bin" --db "$tmp/w6.db" train $quick --kind als --als_factors 4 >"$tmp/out" 2>&1
        rc=$?
        after=$(sqlite3 "$tmp/w6.db" "SELECT id FROM models WHERE city_id = 0 AND kind = 'als' AND active")
        if [ $rc -ne 2 ] || [ "$before" != "$after" ] || ! grep -q "weight" "$tmp/out"; then
            fail "i11_06_als_huge_weights ($wt): exit $rc, active $before -> $after: $(tail -n 2 "$tmp/out")"
        else
            ok "i11_06_als_huge_weights ($wt)"
        fi
    done
}

# Item 14: a grid too big for one kind was refused only after the other kinds trained;
# a 999,999-combination grid started without a word.  The plan is sized first.
i11_14_grid_sized_first() {
    # SGNS 1,000,001 combinations (7 x 11 x 13 x 17 x 19 x 23 x 3 / 3 ... > 1e6), ALS 1
    printf '{"als_factors": [4], "dim": [%s], "epochs": [%s], "negative": [%s], "window": [%s]}' \
        "$(seq -s, 1 40)" "$(seq -s, 1 40)" "$(seq -s, 1 30)" "$(seq -s, 0 30)" >"$tmp/big.json"
    r0=$(runs) m0=$(sqlite3 "$db" "SELECT count(*) FROM models")
    "$bin" --db "$db" train $quick --grid "$tmp/big.json" >"$tmp/out" 2>&1
    rc=$?
    if [ $rc -ne 1 ] || [ "$(runs)" != "$r0" ] ||
        [ "$(sqlite3 "$db" "SELECT count(*) FROM models")" != "$m0" ]; then
        fail "i11_14_grid_sized_first (too big): exit $rc, runs $r0 -> $(runs): $(tail -n 2 "$tmp/out")"
    elif ! grep -q "nothing was trained" "$tmp/out"; then
        fail "i11_14_grid_sized_first (too big): $(cat "$tmp/out")"
    else
        ok "i11_14_grid_sized_first (too big for one kind: nothing trained)"
    fi
    # 999,999 combinations: below the hard limit, far above --max-runs
    printf '{"dim": [%s], "epochs": [%s], "negative": [%s]}' \
        "$(seq -s, 1 99)" "$(seq -s, 1 101)" "$(seq -s, 0 99)" >"$tmp/many.json"
    "$bin" --db "$db" train $quick --kind product --grid "$tmp/many.json" >"$tmp/out" 2>&1
    rc=$?
    if [ $rc -ne 1 ] || [ "$(runs)" != "$r0" ] || ! grep -q "999900 runs" "$tmp/out" ||
        ! grep -q -- "--yes" "$tmp/out"; then
        fail "i11_14_grid_sized_first (999,900 runs): exit $rc: $(tail -n 2 "$tmp/out")"
    else
        ok "i11_14_grid_sized_first (a huge grid asks for --yes)"
    fi
    # over --max-runs: refused; --yes runs it
    printf '{"epochs": [1, 2, 3], "dim": [4]}' >"$tmp/three.json"
    "$bin" --db "$db" train $quick --kind product --grid "$tmp/three.json" --max-runs 2 \
        >"$tmp/out" 2>&1
    rc=$?
    [ $rc -eq 1 ] && [ "$(runs)" = "$r0" ] ||
        fail "i11_14_grid_sized_first (--max-runs 2): exit $rc: $(tail -n 2 "$tmp/out")"
    "$bin" --db "$db" train $quick --kind product --grid "$tmp/three.json" --max-runs 2 --yes \
        >"$tmp/out" 2>&1
    rc=$?
    [ $rc -eq 0 ] && [ "$(runs)" -ge $((r0 + 3)) ] && ok "i11_14_grid_sized_first (--yes)" ||
        fail "i11_14_grid_sized_first (--yes): exit $rc: $(tail -n 2 "$tmp/out")"
}

# Item 17: eval and train printed city ids ("city 4", "\"city\": 0") where other commands
# print names.
i11_17_city_names() {
    name=$(sqlite3 "$db" "SELECT name FROM cities WHERE id = 1")
    "$bin" --db "$db" train --kind ease --min-receipts 10 >"$tmp/tr.out" 2>&1 ||
        fail "i11_17_city_names: train: $(tail -n 2 "$tmp/tr.out")"
    "$bin" --db "$db" eval --city "$name" >"$tmp/ev.out" 2>&1 ||
        fail "i11_17_city_names: eval: $(tail -n 2 "$tmp/ev.out")"
    "$bin" --db "$db" eval --json >"$tmp/ev.json" 2>&1 ||
        fail "i11_17_city_names: eval --json: $(tail -n 2 "$tmp/ev.json")"
    if grep -q "city [0-9]" "$tmp/tr.out" "$tmp/ev.out" || ! grep -q "\[$name\]" "$tmp/tr.out" ||
        ! grep -q "^$name, split" "$tmp/ev.out" || ! grep -q '"city":"all cities"' "$tmp/ev.json"; then
        fail "i11_17_city_names: $(head -n 2 "$tmp/tr.out") / $(head -n 1 "$tmp/ev.out") / $(head -c 80 "$tmp/ev.json")"
    else
        ok "i11_17_city_names"
    fi
}

# Item 15: what train and eval print passes the one sanitizer: a city name holding OSC 0,
# CSI (U+009B) and a right-to-left override reaches the terminal as visible characters.
i11_15_sanitized_printers() {
    cp "$db" "$tmp/s.db"
    sqlite3 "$tmp/s.db" "UPDATE cities SET name = char(27) || ']0;owned' || char(7) || 'Cold' || char(155) || '2J' || char(8238) || 'mere' WHERE id = 1"
    "$bin" --db "$tmp/s.db" train --kind ease --min-receipts 10 >"$tmp/s.out" 2>&1
    "$bin" --db "$tmp/s.db" eval --city "$(sqlite3 "$tmp/s.db" "SELECT name FROM cities WHERE id = 1")" \
        >>"$tmp/s.out" 2>&1
    "$bin" --db "$tmp/s.db" eval --json --city "$(sqlite3 "$tmp/s.db" "SELECT name FROM cities WHERE id = 1")" \
        >>"$tmp/s.out" 2>&1
    if LC_ALL=C grep -q "$(printf '\033')" "$tmp/s.out" || LC_ALL=C grep -q "$(printf '\302\233')" "$tmp/s.out" ||
        LC_ALL=C grep -q "$(printf '\342\200\256')" "$tmp/s.out" || LC_ALL=C grep -q "$(printf '\007')" "$tmp/s.out"; then
        fail "i11_15_sanitized_printers: a control character reached the output"
    elif ! grep -q "Cold" "$tmp/s.out"; then
        fail "i11_15_sanitized_printers: the city is not named: $(head -n 3 "$tmp/s.out")"
    else
        ok "i11_15_sanitized_printers"
    fi
}

# issue 12 item 1: without --grid and PARAMS the built-in search runs (every combination
# with --budget 0), a budget cuts it and says so, --no-search fits the defaults only
i12_01_default_search() {
    r0=$(runs)
    "$bin" --db "$db" train --min-receipts 1000000 --threads 1 --kind category --budget 0 \
        >"$tmp/out" 2>&1 || { fail "i12_01: default search: $(tail -n 3 "$tmp/out")"; return; }
    n=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE id > $r0 AND kind = 'category'")
    [ "$n" -eq 16 ] || fail "i12_01: the built-in search ran $n category runs, expected 16"
    grep -q '"ns_exponent":-0.5' "$tmp/out" || fail "i12_01: ns_exponent -0.5 not searched"
    sel=$(sqlite3 "$db" "SELECT metrics FROM runs WHERE kind = 'category' AND selected ORDER BY id DESC LIMIT 1")
    best=$(sqlite3 "$db" "SELECT max(json_extract(metrics, '\$.\"ndcg@10\"')) FROM runs WHERE id > $r0 AND kind = 'category'")
    [ "$(echo "$sel" | sed 's/.*"ndcg@10":\([0-9.e-]*\).*/\1/')" = "$best" ] ||
        fail "i12_01: the selected run is not the best of the search ($sel vs $best)"
    r0=$(runs)
    "$bin" --db "$db" train --min-receipts 1000000 --threads 1 --kind product --budget 1 \
        --epochs 2 >"$tmp/out" 2>&1 || fail "i12_01: PARAMS train failed"
    [ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE id > $r0 AND kind = 'product'")" -eq 1 ] ||
        fail "i12_01: PARAMS should fit one combination"
    r0=$(runs)
    "$bin" --db "$db" train --min-receipts 1000000 --threads 1 --kind product --no-search \
        >"$tmp/out" 2>&1 || fail "i12_01: --no-search failed"
    [ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE id > $r0 AND kind = 'product'")" -eq 1 ] ||
        fail "i12_01: --no-search should fit one combination"
    "$bin" --db "$db" train --no-search --budget 5 >"$tmp/out" 2>&1
    [ $? -eq 1 ] || fail "i12_01: --no-search --budget should be a usage error"
    ok "i12_01_default_search"
}

i12_01_default_search
i11_02_lr_diverges
i11_02_ns_negative_diverges
i11_02_grid_diverges
i11_06_als_huge_weights
i11_14_grid_sized_first
i11_17_city_names
i11_15_sanitized_printers
[ $failed -eq 0 ] || { echo "$failed failed"; exit 1; }
echo "all passed"
