#!/bin/sh
# test_recommend_cli.sh - `recoscope recommend` on a tiny trained world:
#  1. --batch answers are byte-identical with 1 and 2 worker threads (several blocks of
#     64 lines, unknown ids and JSON-array lines mixed in), one line out per line in;
#  2. a registered model file that does not load (truncated, then deleted) is an
#     error naming the file and what is wrong, exit 2 (README: bad data), for a single
#     query and for --batch; kinds that do not need that model still answer (exit 0);
#  3. i11_01_no_output_cli: a product model imported from word2vec (no output vectors),
#     a category model imported the same way, and a trained model file whose output
#     flag is cleared: `recommend` (default kinds, --basket, --batch) and `snapshot`
#     exit 0 (no SIGSEGV), synonyms still answer, the kinds that need output vectors
#     say they are unavailable, and complements are ranked by the completion scorer
#     where in.out would need them.
#   RS_BIN  the recoscope binary
set -u
bin=${RS_BIN:?RS_BIN must name the recoscope binary}
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: no sqlite3 shell"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

"$bin" synth --out "$tmp/w" --seed 9 --cities 1 --departments 3 --categories 10 \
    --products 100 --receipts 1500 >/dev/null || fail "synth"
db=$tmp/t.db
"$bin" --db "$db" import -q --products "$tmp/w/products.csv" \
    --categories "$tmp/w/categories.csv" "$tmp/w/receipts.csv" || fail "import"
for kind in product category; do
    "$bin" --db "$db" train --kind $kind --min-receipts 1000000 --dim 8 --epochs 2 \
        >"$tmp/train.out" 2>&1 || fail "train $kind: $(tail -n 3 "$tmp/train.out")"
done

# 1. batch: 1 thread vs 2 threads, byte for byte
sqlite3 "$db" "SELECT ext_id FROM products ORDER BY id" >"$tmp/ids" || fail "ids"
awk 'BEGIN { srand(7) } { id[NR] = $1 } END {
    for (i = 0; i < 300; i++) {
        n = 1 + int(rand() * 4); line = ""
        for (j = 0; j < n; j++) line = line (j ? " " : "") id[1 + int(rand() * NR)]
        if (i % 50 == 7) line = line " NO_SUCH_ID"
        if (i % 40 == 3) line = "[\"" id[1 + int(rand() * NR)] "\",\"" id[1 + int(rand() * NR)] "\"]"
        print line
    } }' "$tmp/ids" >"$tmp/ctx"
"$bin" --db "$db" recommend --batch "$tmp/ctx" --threads 1 >"$tmp/b1" 2>"$tmp/e1" ||
    fail "batch 1 thread: $(head -c 300 "$tmp/e1")"
"$bin" --db "$db" recommend --batch "$tmp/ctx" --threads 2 >"$tmp/b2" 2>"$tmp/e2" ||
    fail "batch 2 threads: $(head -c 300 "$tmp/e2")"
[ "$(wc -l <"$tmp/b1")" -eq 300 ] || fail "batch: $(wc -l <"$tmp/b1") lines out for 300 in"
cmp -s "$tmp/b1" "$tmp/b2" || fail "batch output differs between 1 and 2 threads"
grep -c '"completion":\[{' "$tmp/b1" >/dev/null || fail "batch: no completion rows"
[ "$(grep -c 'unknown product .NO_SUCH_ID' "$tmp/b1")" -eq 6 ] || fail "batch: unknown ids not reported"
echo "batch: 300 lines, 1 and 2 threads byte-identical"

# 2. a broken product model file
q=$(head -n 1 "$tmp/ids")
path=$(sqlite3 "$db" "SELECT path FROM models WHERE kind = 'product' AND active = 1")
case $path in /*) ;; *) path=$(dirname "$db")/$path ;; esac
[ -f "$path" ] || fail "no active product model file ($path)"
"$bin" --db "$db" recommend --product "$q" >/dev/null 2>"$tmp/err" || fail "intact model: $(cat "$tmp/err")"
cp "$path" "$tmp/model.bak"
head -c 200 "$tmp/model.bak" >"$path"
for args in "--product $q" "--product $q --json" "--product $q --kind synonyms" \
            "--basket $q --kind complements" "--batch $tmp/ctx"; do
    # shellcheck disable=SC2086
    "$bin" --db "$db" recommend $args >"$tmp/out" 2>"$tmp/err"
    st=$?
    [ $st -eq 2 ] || fail "truncated model, recommend $args: exit $st (expected 2)"
    grep -q "$(basename "$path")" "$tmp/err" || fail "truncated model: file not named: $(cat "$tmp/err")"
    grep -q "truncated" "$tmp/err" || fail "truncated model: what is wrong not said: $(cat "$tmp/err")"
    [ -s "$tmp/out" ] && fail "truncated model, recommend $args: printed results anyway"
done
echo "truncated: $(head -n 1 "$tmp/err")"
"$bin" --db "$db" recommend --product "$q" --kind categories >"$tmp/out" 2>"$tmp/err" ||
    fail "categories with a broken product model: exit $?: $(cat "$tmp/err")"
grep -q "CATEGORIES" "$tmp/out" || fail "categories with a broken product model: no list"
rm -f "$path"
"$bin" --db "$db" recommend --product "$q" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st -eq 2 ] || fail "deleted model: exit $st (expected 2)"
grep -q "$(basename "$path")" "$tmp/err" || fail "deleted model: file not named: $(cat "$tmp/err")"
echo "deleted: $(head -n 1 "$tmp/err")"
cp "$tmp/model.bak" "$path"
"$bin" --db "$db" recommend --product "$q" >/dev/null 2>"$tmp/err" || fail "restored model: $(cat "$tmp/err")"

# 3. i11_01_no_output_cli: models without output vectors
q2=$(sed -n 2p "$tmp/ids")
no_output_checks() { # $1: what; $2: a kind that must say "output vectors"
    for args in "--product $q" "--basket $q,$q2" "--product $q --json" "--batch $tmp/ctx"; do
        # shellcheck disable=SC2086
        "$bin" --db "$db" recommend $args >"$tmp/out" 2>"$tmp/err"
        st=$?
        [ $st -eq 0 ] || fail "i11_01 $1: recommend $args: exit $st: $(head -c 300 "$tmp/err")"
    done
    "$bin" --db "$db" recommend --product "$q" >"$tmp/out" 2>&1
    if [ -n "$2" ]; then
        grep -q "output vectors" "$tmp/out" || fail "i11_01 $1: no word of output vectors: $(cat "$tmp/out")"
        "$bin" --db "$db" recommend --product "$q" --kind "$2" --json >"$tmp/out" 2>&1 ||
            fail "i11_01 $1: --kind $2 --json"
        grep -q '"error":"[^"]*output vectors' "$tmp/out" || fail "i11_01 $1: $2 not unavailable: $(cat "$tmp/out")"
    else
        # no output vectors for in.out: the city's completion scorer ranks them
        grep "products ranked by: " "$tmp/out" | grep -vq "ranked by: in.out" ||
            fail "i11_01 $1: complements not ranked by the scorer: $(cat "$tmp/out")"
    fi
    "$bin" --db "$db" snapshot --rows 30 --cols 120 --product "$q" >"$tmp/snap" 2>&1 ||
        fail "i11_01 $1: snapshot exit $?: $(tail -n 3 "$tmp/snap")"
    "$bin" --db "$db" snapshot --rows 30 --cols 120 --product "$q" --keys '<Tab><Tab>jj' >/dev/null 2>&1 ||
        fail "i11_01 $1: snapshot with keys exit $?"
    echo "i11_01 $1: ok"
}
# a product model as word2vec text, input vectors only (the README's gensim path)
"$bin" --db "$db" export --kind product --format word2vec --out "$tmp/vec.txt" >/dev/null 2>&1 ||
    awk -v n="$(wc -l <"$tmp/ids")" 'BEGIN { print n, 4 } { printf "%s %g %g %g %g\n", $1, NR % 7, NR % 5, NR % 3, 1 }' \
        "$tmp/ids" >"$tmp/vec.txt"
"$bin" --db "$db" import-model "$tmp/vec.txt" >"$tmp/out" 2>&1 || fail "i11_01: import-model: $(cat "$tmp/out")"
no_output_checks "word2vec product model" ""
"$bin" --db "$db" recommend --product "$q" --kind synonyms | grep -q "^ *1 " ||
    fail "i11_01: synonyms do not answer from input vectors"
# a category model the same way
sqlite3 "$db" "SELECT ext_id FROM categories ORDER BY id" |
    awk 'BEGIN { srand(3) } { id[NR] = $1 } END { print NR, 3; for (i = 1; i <= NR; i++) printf "%s %g %g %g\n", id[i], rand(), rand(), rand() }' >"$tmp/cvec.txt"
"$bin" --db "$db" import-model "$tmp/cvec.txt" --kind category >"$tmp/out" 2>&1 ||
    fail "i11_01: import-model category: $(cat "$tmp/out")"
# (categories: the validated category ranking `train` chose answers, by the ids of the
# models it was chosen with; complements still need the category model's output vectors)
no_output_checks "word2vec product and category models" complements
# a trained product model whose file says it has no output (flags byte 44: 7 -> 5)
"$bin" --db "$db" train --kind product --min-receipts 1000000 --dim 8 --epochs 2 >"$tmp/train.out" 2>&1 ||
    fail "i11_01: train: $(tail -n 3 "$tmp/train.out")"
path=$(sqlite3 "$db" "SELECT path FROM models WHERE kind = 'product' AND active = 1")
case $path in /*) ;; *) path=$(dirname "$db")/$path ;; esac
printf '\005' | dd of="$path" bs=1 seek=44 count=1 conv=notrunc 2>/dev/null || fail "i11_01: dd"
"$bin" --db "$db" recommend --product "$q" >"$tmp/out" 2>&1
st=$?
if [ $st -eq 0 ]; then
    no_output_checks "output flag cleared (and the category model still input-only)" complements
else
    # the loader may refuse the file outright (its sections no longer add up): then it
    # is a broken model, exit 2 with the file named, never a crash
    [ $st -eq 2 ] || fail "i11_01 output flag cleared: exit $st: $(cat "$tmp/out")"
    grep -q "$(basename "$path")" "$tmp/out" || fail "i11_01 output flag cleared: $(cat "$tmp/out")"
    echo "i11_01 output flag cleared: refused as broken: $(head -n 1 "$tmp/out")"
fi
echo "ok"
exit 0
