#!/usr/bin/env bash
# `recoscope models`: the model history (issue 12 item 6).  A small world trained twice
# and evaluated once: the list shows validation and held-out scores, an evaluation of a
# model that no longer serves is stale, `models activate` brings an older model back
# (after loading its file), `models prune` removes files and rows but never the active
# model.
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
expect_msg() { # file needle description
  if grep -qF -- "$2" "$1"; then ok; else bad "$3: no \"$2\" in:"; sed 's/^/  | /' "$1" | head -8 >&2; fi
}
# the id column of the listing's rows for kind and city ("all cities" = 0), newest first
ids() { "$BIN" --db "$DB" models --kind "$1" --json | python3 -c '
import json, sys
print(" ".join(str(m["id"]) for m in json.load(sys.stdin) if m["city_id"] == int(sys.argv[1])))' "$2"; }
field() { # id key: a field of model id from --json (heldout_stale, active, path)
  "$BIN" --db "$DB" models --json | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    if m["id"] == int(sys.argv[1]):
        v = m.get(sys.argv[2]); print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"; }
command -v python3 >/dev/null || { echo "python3 needed"; exit 77; }

DB="$T/w.db"
"$BIN" synth --out "$T/w" --seed 3 --cities 2 --departments 3 --categories 8 --products 120 \
  --receipts 1500 >/dev/null || { bad "synth"; exit 1; }
expect_rc 0 "import" "$BIN" --db "$DB" import -q --products "$T/w/products.csv" --categories "$T/w/categories.csv" "$T/w/receipts.csv"
TRAIN=("$BIN" --db "$DB" train --city all --kind product --threads 1 --epochs 1 --dim 8 --min-receipts 100000)
# a retrained model replaces the active one even when it scores worse (`train --force`,
# once train keeps a better active model)
FORCE=(); "$BIN" train --help 2>&1 | grep -q -- "--force" && FORCE=(--force)
expect_rc 0 "no models yet" "$BIN" --db "$DB" models
expect_msg "$T/out" "no models registered" "empty listing"
expect_rc 0 "train 1" "${TRAIN[@]}"
expect_rc 0 "eval" "$BIN" --db "$DB" eval --city all
read -r FIRST <<<"$(ids product 0)"
[ -n "$FIRST" ] && ok || bad "no product model after train"

# i12_06_models_list: validation and held-out scores of the active model
expect_rc 0 "models" "$BIN" --db "$DB" models --city all --kind product
expect_msg "$T/out" "held-out" "listing header"
grep -E "^ +\* +$FIRST +all cities +product +all " "$T/out" >/dev/null && ok || { bad "i12_06: active row of model $FIRST"; cat "$T/out" >&2; }
[ "$(field "$FIRST" heldout_stale)" = false ] && ok || bad "i12_06: a fresh evaluation is stale"
[ "$(field "$FIRST" heldout | python3 -c 'import json,sys; print("hr@10" in json.load(sys.stdin))')" = True ] && ok || bad "i12_06: no held-out hr@10"
[ "$(field "$FIRST" validation | python3 -c 'import json,sys; print("hr@10" in json.load(sys.stdin))')" = True ] && ok || bad "i12_06: no validation hr@10"

# i12_06_models_stale: a newer model serves; the evaluation of the first is stale
expect_rc 0 "train 2" "${TRAIN[@]}" "${FORCE[@]}" --seed 2
expect_rc 0 "train 3" "${TRAIN[@]}" "${FORCE[@]}" --seed 3
read -r THIRD SECOND _ <<<"$(ids product 0)"
[ "$THIRD" -gt "$SECOND" ] && [ "$SECOND" -gt "$FIRST" ] && ok || bad "i12_06: three product models ($THIRD $SECOND $FIRST)"
[ "$(field "$THIRD" active)" = true ] && ok || bad "i12_06: the newest is not active"
[ "$(field "$FIRST" heldout_stale)" = true ] && ok || bad "i12_06: the old evaluation is not stale"
expect_rc 0 "models after retraining" "$BIN" --db "$DB" models --kind product --city all
grep -E "^ +$FIRST +all cities .* stale " "$T/out" >/dev/null && ok || { bad "i12_06: no stale mark"; cat "$T/out" >&2; }

# i12_06_models_activate: the first one again; its evaluation is current again
expect_rc 0 "activate" "$BIN" --db "$DB" models activate "$FIRST"
expect_msg "$T/out" "model $FIRST (product, city id 0, split all) is now active" "activate message"
[ "$(field "$FIRST" active)" = true ] && [ "$(field "$THIRD" active)" = false ] && ok || bad "i12_06: activate did not switch"
[ "$(field "$FIRST" heldout_stale)" = false ] && ok || bad "i12_06: evaluation of the re-activated model stale"
expect_rc 0 "recommend with the re-activated model" "$BIN" --db "$DB" recommend --product "$(head -2 "$T/w/products.csv" | tail -1 | cut -d, -f1)"
expect_rc 1 "activate an unknown id" "$BIN" --db "$DB" models activate 9999
expect_msg "$T/err" "no model 9999" "unknown id"
expect_rc 1 "activate without id" "$BIN" --db "$DB" models activate
# a broken file is refused and nothing changes
P2=$(field "$SECOND" path)
cp "$P2" "$T/second.bak"
head -c 5000 "$T/second.bak" >"$P2"
expect_rc 2 "activate a truncated file" "$BIN" --db "$DB" models activate "$SECOND"
expect_msg "$T/err" "truncated model file" "broken file named"
[ "$(field "$FIRST" active)" = true ] && ok || bad "i12_06: a refused activation changed the active model"
cp "$T/second.bak" "$P2"

# i12_06_models_prune: keep 1 per city/kind/split; the active (older) one stays too
n_files() { ls "$T"/w-models/product-c0-*.rsm 2>/dev/null | wc -l; }
[ "$(n_files)" = 3 ] && ok || bad "i12_06: $(n_files) product files before prune"
expect_rc 0 "prune --dry-run" "$BIN" --db "$DB" models prune --keep 1 --kind product --city all --dry-run
expect_msg "$T/out" "would remove 1 model (1 file" "dry run"
[ "$(n_files)" = 3 ] && ok || bad "i12_06: the dry run removed files"
expect_rc 0 "prune" "$BIN" --db "$DB" models prune --keep 1 --kind product --city all
expect_msg "$T/out" "removed 1 model (1 file" "prune message"
[ "$(n_files)" = 2 ] && ok || bad "i12_06: $(n_files) product files after prune"
[ ! -e "$P2" ] && [ ! -e "$P2.json" ] && ok || bad "i12_06: the pruned file or sidecar is still there"
[ "$(ids product 0)" = "$THIRD $FIRST" ] && ok || bad "i12_06: rows after prune: $(ids product 0)"
[ "$(field "$FIRST" active)" = true ] && ok || bad "i12_06: prune touched the active model"
expect_rc 0 "prune again: nothing" "$BIN" --db "$DB" models prune --keep 1
expect_msg "$T/out" "removed 0 models" "second prune"
[ "$(ids product 0)" = "$THIRD $FIRST" ] && ok || bad "i12_06: the second prune removed $(ids product 0)"
expect_rc 1 "prune --keep 0" "$BIN" --db "$DB" models prune --keep 0
expect_rc 0 "recommend after prune" "$BIN" --db "$DB" recommend --product "$(head -2 "$T/w/products.csv" | tail -1 | cut -d, -f1)"

# options and filters
expect_rc 0 "--help" "$BIN" models --help
expect_msg "$T/out" "models prune [--keep N]" "usage"
expect_rc 1 "unknown kind" "$BIN" --db "$DB" models --kind nosuchkind
expect_rc 1 "unknown city" "$BIN" --db "$DB" models --city atlantis
expect_rc 1 "stray argument" "$BIN" --db "$DB" models list

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
