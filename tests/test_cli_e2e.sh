#!/usr/bin/env bash
# End to end, as a new user: `recoscope demo --no-tui` on an empty directory, then
# the commands a person runs next.  Checks exit codes and that real results come out.
set -u
BIN=${RS_BIN:?RS_BIN not set}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0 pass=0
ok()   { pass=$((pass+1)); }
bad()  { echo "FAIL: $*" >&2; fail=$((fail+1)); }
expect_rc() { # expected-rc description command...
  local want=$1 what=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" = "$want" ]; then ok; else bad "$what: exit $rc, expected $want"; sed 's/^/  | /' "$T/err" | head -5 >&2; fi
}

DB="$T/data/world.db"
# A small world keeps the run short under sanitizers; demo's own path is the same.
expect_rc 0 "synth" "$BIN" synth --out "$T/w" --seed 7 --products 800 --categories 40 \
  --departments 8 --cities 3 --receipts 12000
expect_rc 0 "import" "$BIN" --db "$DB" import --products "$T/w/products.csv" \
  --categories "$T/w/categories.csv" "$T/w/receipts.csv"
expect_rc 0 "re-import is skipped" "$BIN" import --db "$DB" --products "$T/w/products.csv" \
  --categories "$T/w/categories.csv" "$T/w/receipts.csv"
grep -qi "skip" "$T/err" && ok || bad "re-import did not say it skipped"
expect_rc 0 "stats --json" "$BIN" --db "$DB" stats --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["receipts"]==12000, d["receipts"]' "$T/out" \
  && ok || bad "stats --json receipts != 12000"
expect_rc 0 "train" "$BIN" --db "$DB" train --epochs 5 --threads 1 --min-receipts 100000
P=$(python3 -c 'import csv,sys; r=csv.DictReader(open(sys.argv[1])); print(next(r)["product_id"])' "$T/w/products.csv")
expect_rc 0 "recommend --json" "$BIN" --db "$DB" recommend --product "$P" --json
python3 - "$T/out" <<'PY' && ok || bad "recommend --json shape"
import json, sys
d = json.load(open(sys.argv[1]))
for kind in ("synonyms", "categories", "complements"):
    assert isinstance(d[kind], list) and d[kind], kind
    for row in d[kind]:
        assert "id" in row and "name" in row and "score" in row, row
PY
printf '["%s"]\nnot-a-product\n' "$P" | "$BIN" --db "$DB" recommend --batch - >"$T/batch" 2>"$T/err"
[ $? = 0 ] && ok || bad "recommend --batch exit code"
[ "$(wc -l <"$T/batch")" = 2 ] && ok || bad "recommend --batch: one line out per line in"
sed -n 2p "$T/batch" | grep -q '"error"' && ok || bad "unknown id gives an error field"
expect_rc 0 "snapshot" "$BIN" --db "$DB" snapshot --rows 24 --cols 80 --product "$P"
[ "$(wc -l <"$T/out")" -ge 24 ] && ok || bad "snapshot printed fewer than 24 lines"

# usage and data errors keep their documented exit codes
expect_rc 1 "unknown command" "$BIN" frobnicate
expect_rc 1 "unknown city" "$BIN" --db "$DB" recommend --product "$P" --city Atlantis
expect_rc 1 "missing database" "$BIN" --db "$T/nope.db" stats
printf 'receipt_id,product_id\nr1,\n' >"$T/bad.csv"
expect_rc 2 "bad CSV" "$BIN" --db "$DB" import "$T/bad.csv"
grep -q "bad.csv:2:" "$T/err" && ok || bad "bad CSV error names file:line"
for c in demo synth import stats train eval recommend export import-model tui snapshot; do
  expect_rc 0 "$c --help" "$BIN" "$c" --help
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
