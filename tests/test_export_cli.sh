#!/usr/bin/env bash
# `recoscope import-model` and `recoscope export` from the command line: a word2vec
# file in, the same vectors out (text and binary), and every refusal with its exit code
# and message.
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
  if grep -qF -- "$2" "$1"; then ok; else bad "$3: no \"$2\" in:"; sed 's/^/  | /' "$1" | head -5 >&2; fi
}

DB="$T/x.db"
printf 'product_id,name,category\np1,Red apple,Fruit\np2,Green apple,Fruit\np3,Rye bread,Bread\n' >"$T/products.csv"
printf 'receipt_id,product_id\nr1,p1\nr1,p3\nr2,p2\nr2,p3\nr3,p1\nr3,p2\n' >"$T/receipts.csv"
expect_rc 0 "import" "$BIN" --db "$DB" import --products "$T/products.csv" "$T/receipts.csv"

expect_rc 0 "export --help" "$BIN" export --help
expect_msg "$T/out" "--format word2vec|word2vec-bin" "export usage"
expect_rc 0 "import-model --help" "$BIN" import-model --help
expect_rc 1 "export without a model" "$BIN" --db "$DB" export --format word2vec --out "$T/none.txt"
expect_msg "$T/err" "no active product model" "export without a model"
expect_rc 1 "export without --format" "$BIN" --db "$DB" export --out "$T/none.txt"

# input vectors with one unknown word: imported with a warning
printf '4 3\np1 0.5 -1.25 3\np2 1 2 3\nzz 9 9 9\np3 -0.125 0 1e-05\n' >"$T/in.txt"
expect_rc 0 "import-model" "$BIN" --db "$DB" import-model "$T/in.txt"
expect_msg "$T/err" "1 of 4 words are not known product ids" "unknown word warning"
expect_msg "$T/out" "input vectors only" "no output note"
expect_rc 0 "export text" "$BIN" --db "$DB" export --kind product --format word2vec --out "$T/e.txt"
printf '3 3\np1 0.5 -1.25 3\np2 1 2 3\np3 -0.125 0 9.99999975e-06\n' >"$T/want.txt"
cmp -s "$T/e.txt" "$T/want.txt" && ok || { bad "exported text differs"; diff "$T/e.txt" "$T/want.txt" >&2; }
expect_rc 1 "export --matrix out without output vectors" "$BIN" --db "$DB" export --matrix out \
  --format word2vec --out "$T/o.txt"
expect_msg "$T/err" "no output vectors" "export --matrix out"

# binary round trip: export binary, import it back with its output twin
expect_rc 0 "export binary" "$BIN" --db "$DB" export --format word2vec-bin --out "$T/e.bin"
printf '3 3\np3 1 1 1\np1 2 2 2\np2 3 3 3\n' >"$T/out.txt"
expect_rc 0 "import-model binary + --output" "$BIN" --db "$DB" import-model "$T/e.bin" \
  --output "$T/out.txt" --format auto
expect_rc 0 "export out" "$BIN" --db "$DB" export --matrix out --format word2vec --out "$T/o.txt"
printf '3 3\np1 2 2 2\np2 3 3 3\np3 1 1 1\n' >"$T/want_o.txt"
cmp -s "$T/o.txt" "$T/want_o.txt" && ok || { bad "exported output vectors differ"; diff "$T/o.txt" "$T/want_o.txt" >&2; }
expect_rc 0 "export in again" "$BIN" --db "$DB" export --format word2vec --out "$T/e2.txt"
cmp -s "$T/e2.txt" "$T/want.txt" && ok || bad "binary round trip changed the vectors"

# refusals
printf '2 4\np1 1 2 3 4\np2 1 2 3 4\n' >"$T/dim4.txt"
expect_rc 2 "wrong dimension between files" "$BIN" --db "$DB" import-model "$T/in.txt" --output "$T/dim4.txt"
expect_msg "$T/err" "wrong dimension between files" "dimension between files"
printf '2 3\nfoo 1 2 3\nbar 1 2 3\n' >"$T/unk.txt"
expect_rc 2 "no known word" "$BIN" --db "$DB" import-model "$T/unk.txt"
expect_msg "$T/err" "none of its 2 words is a known product id" "no known word"
printf '3 3\np1 1 2 3\np2 1 2 3\n' >"$T/short.txt"
expect_rc 2 "truncated" "$BIN" --db "$DB" import-model "$T/short.txt"
expect_msg "$T/err" "truncated file" "truncated"
printf '2 3\np1 1 2 3\np1 1 2 3\n' >"$T/dup.txt"
expect_rc 2 "duplicate" "$BIN" --db "$DB" import-model "$T/dup.txt"
expect_msg "$T/err" "duplicate word \"p1\"" "duplicate"
printf '2 3\np1 1 nan 3\np2 1 2 3\n' >"$T/nan.txt"
expect_rc 2 "NaN" "$BIN" --db "$DB" import-model "$T/nan.txt"
expect_msg "$T/err" "value 2 is NaN" "NaN"
printf '2 3\np1 1 2 3\np2 1 2\n' >"$T/dim.txt"
expect_rc 2 "wrong dimension" "$BIN" --db "$DB" import-model "$T/dim.txt"
expect_msg "$T/err" ":3: word \"p2\" has 2 values, the header says dimension 3" "wrong dimension"
printf 'three 3\n' >"$T/hdr.txt"
expect_rc 2 "bad header" "$BIN" --db "$DB" import-model "$T/hdr.txt"
expect_msg "$T/err" "bad header" "bad header"
expect_rc 1 "missing file" "$BIN" --db "$DB" import-model "$T/nope.txt"
expect_rc 1 "bad format name" "$BIN" --db "$DB" import-model "$T/in.txt" --format glove
expect_rc 1 "unknown city" "$BIN" --db "$DB" import-model "$T/in.txt" --city atlantis

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
