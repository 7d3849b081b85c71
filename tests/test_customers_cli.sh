#!/bin/sh
# test_customers_cli.sh - the customer side of the CLI on a small synthetic world (issue 14):
#  1. `eval --customers`: a table per city with every first-level method and the candidate
#     recall; the default split is 30 days (the world has times), --holdout-orders 1 the
#     last receipt; buy-again beats the city's popularity on precision@10 (the world plants
#     staples bought again); --json is one object, the same figures as the table; every row
#     recorded as an evaluation ("customer <method>", split "customers <split>") and shown
#     by the metric panel with its split; option errors exit 1.
#  2. `recommend --customer` and batch lines {"customer": "ID"} for the planted customers
#     (truth.json): buy-again leans to their favourite categories (twice the share of the
#     popularity list), new-for-you by the product model leans to them more than the
#     popularity fallback does (which answers before a product model exists, and says
#     so); ranked names the method `eval --customers` validated; unknown customers exit 1
#     (an "error" field in a batch); batch output is the same with 1 and 2 threads.
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

# 2. recommend --customer
top=$(python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['customers']; print(max(c, key=lambda x: (x['receipts'], x['id']))['id'])" "$tmp/w/truth.json")
"$bin" --db "$db" recommend --customer "$top" -k 5 >"$tmp/c1" 2>"$tmp/e" || fail "--customer $top: $(cat "$tmp/e")"
grep -q "^customer $top in " "$tmp/c1" || fail "no customer header: $(head -n 2 "$tmp/c1")"
grep -q '^buy again (buyagain)' "$tmp/c1" || fail "no buy-again list"
grep -q '^new for you (popularity): no product model' "$tmp/c1" || fail "new-for-you fallback not said"
grep -q '^ranked ([a-z]*): .*validated' "$tmp/c1" || fail "ranked does not say its validation: $(grep '^ranked' "$tmp/c1")"
"$bin" --db "$db" recommend --customer NO_SUCH_CUSTOMER >/dev/null 2>"$tmp/e"
[ $? -eq 1 ] || fail "unknown customer: not exit 1"
grep -q "unknown customer 'NO_SUCH_CUSTOMER'" "$tmp/e" || fail "unknown customer message: $(cat "$tmp/e")"

# the planted tastes, through the batch: before and after a product model
taste_share() { # $1 = label; batch of every customer with >= 5 receipts per city
    python3 - "$tmp/w/truth.json" "$tmp/w/products.csv" "$bin" "$db" "$1" <<'PY'
import csv, json, subprocess, sys
truth, prods, rsbin, db, label = sys.argv[1:6]
cat = {r["product_id"]: r["category"] for r in csv.DictReader(open(prods))}
cs = [c for c in json.load(open(truth))["customers"] if c["receipts"] >= 5]
share = {"buy_again": [0, 0], "new_for_you": [0, 0]}
methods = set()
for city in sorted({c["city"] for c in cs}):
    mine = [c for c in cs if c["city"] == city]
    lines = "".join(json.dumps({"customer": c["id"]}) + "\n" for c in mine)
    outs = []
    for threads in ("1", "2"):
        p = subprocess.run([rsbin, "--db", db, "recommend", "--batch", "-", "--city", city,
                            "-k", "10", "--threads", threads], input=lines,
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        outs.append(p.stdout)
    assert outs[0] == outs[1], "batch differs between 1 and 2 threads"
    out = outs[0].splitlines()
    assert len(out) == len(mine), (len(out), len(mine))
    for c, line in zip(mine, out):
        o = json.loads(line)
        assert o["customer"] == c["id"] and "error" not in o, o
        methods.add(o["new_for_you"]["method"])
        for l in share:
            for r in o[l]["rows"]:
                share[l][1] += 1
                share[l][0] += cat[r["id"]] in c["tastes"]
                if l == "new_for_you":
                    assert r["history_count"] == 0, r
print(label, " ".join("%s=%.4f" % (l, v[0] / v[1]) for l, v in share.items()), ",".join(sorted(methods)))
PY
}
before=$(taste_share before) || fail "batch before the product model"
"$bin" --db "$db" train --kind product --dim 16 --epochs 5 --min-receipts 1000000 \
    >"$tmp/train.out" 2>&1 || fail "train: $(tail -n 3 "$tmp/train.out")"
after=$(taste_share after) || fail "batch with the product model"
echo "taste shares: $before; $after"
echo "$before $after" | awk '{
    split($2, ba, "="); split($3, pn, "="); split($7, sn, "=")
    if ($4 != "popularity" || $8 != "sgns") { print "methods " $4 " " $8; exit 1 }
    if (ba[2] < 2 * pn[2]) { print "buy-again " ba[2] " vs popularity " pn[2]; exit 1 }
    if (sn[2] < 1.25 * pn[2]) { print "sgns new-for-you " sn[2] " vs popularity " pn[2]; exit 1 }
}' || fail "the planted tastes are not recovered ($before; $after)"
printf '{"customer":"NO_SUCH"}\n{"nope":1}\n' | "$bin" --db "$db" recommend --batch - >"$tmp/b" ||
    fail "batch with bad customer lines"
[ "$(grep -c '"error":' "$tmp/b")" -eq 2 ] || fail "bad customer lines: $(cat "$tmp/b")"
echo "recommend --customer: lists, tastes, batch"
