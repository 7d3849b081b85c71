#!/bin/sh
# test_customers_cli.sh - the customer side of the CLI on a small synthetic world (issue 14):
#  1. `eval --customers`: a table per city with every first-level method and the candidate
#     recall; the default split is 30 days (the world has times), --holdout-orders 1 the
#     last receipt; buy-again beats the city's popularity on precision@10 (the world plants
#     staples bought again); --json is one object, the same figures as the table; every row
#     recorded as an evaluation ("customer <method>", split "customers <split>") and shown
#     by the metric panel with its split; option errors exit 1.
#   RS_BIN  the recoscope binary
set -u
bin=${RS_BIN:?RS_BIN must name the recoscope binary}
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: no sqlite3 shell"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

"$bin" synth --out "$tmp/w" --seed 3 --cities 2 --departments 5 --categories 30 \
    --products 400 --receipts 8000 >/dev/null || fail "synth"
db=$tmp/t.db
"$bin" --db "$db" import -q --products "$tmp/w/products.csv" \
    --categories "$tmp/w/categories.csv" "$tmp/w/receipts.csv" || fail "import"

# 1. eval --customers
"$bin" --db "$db" eval --customers >"$tmp/t1" 2>"$tmp/e1" || fail "eval --customers: $(cat "$tmp/e1")"
[ "$(grep -c 'customers split last-30-days, cutoff ' "$tmp/t1")" -eq 2 ] ||
    fail "not a 30-day table per city: $(head -n 3 "$tmp/t1")"
for m in popularity buyagain itemitem ease als sgns; do
    [ "$(grep -c "^$m " "$tmp/t1")" -eq 2 ] || fail "method $m not in both tables"
done
grep -q '^candidate recall of the union of every method.s top N: @50 0\.[0-9]*, @100' "$tmp/t1" ||
    fail "no candidate recall row"
# buy-again above popularity on p@10 (column 4) in both cities
awk '$1 == "popularity" { p[n1++] = $4 } $1 == "buyagain" { b[n2++] = $4 }
     END { if (n1 != 2 || n2 != 2) exit 1; for (i = 0; i < 2; i++) if (b[i] + 0 <= p[i] + 0) exit 1 }' \
    "$tmp/t1" || fail "buy-again does not beat popularity: $(grep -E '^(popularity|buyagain) ' "$tmp/t1")"
n=$(sqlite3 "$db" "SELECT count(*) FROM evaluations WHERE method LIKE 'customer %'
                   AND split = 'customers last-30-days'") || fail "sqlite3"
[ "$n" -eq 14 ] || fail "$n evaluations recorded for the 30-day split (want 2 cities x 7)"

"$bin" --db "$db" eval --customers --city Westerby --holdout-orders 1 --json >"$tmp/j" ||
    fail "--json"
python3 - "$tmp/j" <<'PY' || fail "json"
import json, sys
o = json.load(open(sys.argv[1]))
c = o["cities"]
assert len(c) == 1 and c[0]["city"] == "Westerby" and c[0]["split"] == "last-1-orders", c
ms = {m["method"]: m for m in c[0]["methods"]}
assert set(ms) >= {"popularity", "buyagain", "itemitem", "ease", "als", "sgns"}, ms.keys()
for m in ms.values():
    for key in ("precision@5", "precision@10", "recall@10", "map@10", "ndcg@10", "auc"):
        assert 0 <= m[key] <= 1, (m["method"], key, m[key])
    assert m["customers"] == c[0]["customers"] > 0
assert 0 < c[0]["candidate_recall"]["50"] <= c[0]["candidate_recall"]["100"] <= c[0]["candidate_recall"]["200"] <= 1
PY
# the same split in the table: the same figures (p@10 of buy-again)
"$bin" --db "$db" eval --customers --city Westerby --holdout-orders 1 >"$tmp/t2" || fail "table"
tp=$(awk '$1 == "buyagain" { print $4 }' "$tmp/t2")
jp=$(python3 -c "import json,sys; o=json.load(open(sys.argv[1])); print('%.4f' % [m for m in o['cities'][0]['methods'] if m['method']=='buyagain'][0]['precision@10'])" "$tmp/j")
[ "$tp" = "$jp" ] || fail "table p@10 $tp, json $jp"

# the metric panel shows both splits
"$bin" --db "$db" snapshot --rows 60 --cols 100 --city Westerby --keys m >"$tmp/snap" ||
    fail "snapshot"
grep -q 'Customers (eval --customers), split last-30-days' "$tmp/snap" || fail "panel: no 30-day block"
grep -q 'Customers (eval --customers), split last-1-orders' "$tmp/snap" || fail "panel: no orders block"
grep -q 'buyagain' "$tmp/snap" || fail "panel: no buyagain row"

# option errors: exit 1
"$bin" --db "$db" eval --customers --holdout-days 5 --holdout-orders 1 >/dev/null 2>&1
[ $? -eq 1 ] || fail "both splits accepted"
"$bin" --db "$db" eval --customers --city Nowhere >/dev/null 2>"$tmp/e"
[ $? -eq 1 ] || fail "unknown city: not exit 1"
"$bin" --db "$db" eval --customers --holdout-days 100000 >/dev/null 2>"$tmp/e"
[ $? -eq 1 ] || fail "a split holding out everything: not exit 1 ($(cat "$tmp/e"))"
echo "eval --customers: tables, json, evaluations, panel"
