#!/bin/sh
# test_regressions_cli.sh - command-line regression checks from the hardening work:
#  1. resource bounds: a 2 MiB field imports (or fails cleanly); a record over the
#     reader's limit (RS_CSV_MAX_RECORD, 64 MiB) and a runaway quote are clean errors
#     naming the file and line, exit 2, nothing imported;
#  2. a database opened by a relative --db path: its models must still load when the
#     command runs from another directory (model paths were stored relative to the
#     working directory but resolved against the database's directory);
#  3. a failed first import into a new path leaves no database file (nor -wal, -shm, nor
#     the directory it created) behind; a failed import into an existing database keeps
#     it, byte for byte.
#   RS_BIN  the recoscope binary
set -u
bin=${RS_BIN:?RS_BIN must name the recoscope binary}
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: no sqlite3 shell"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac

"$bin" synth --out "$tmp/w" --seed 9 --cities 1 --departments 3 --categories 10 \
    --products 100 --receipts 1500 >/dev/null || fail "synth"
db=$tmp/l.db
"$bin" --db "$db" import -q --products "$tmp/w/products.csv" \
    --categories "$tmp/w/categories.csv" "$tmp/w/receipts.csv" || fail "import"
count() { sqlite3 "$db" "SELECT count(*) FROM products"; }
before=$(count)

# 1a. a 2 MiB product name: imported, or refused with a clean data error
{
    echo "product_id,name,category"
    printf 'BIG1,'
    head -c 2097152 /dev/zero | tr '\0' 'n'
    printf ',%s\n' "$(sed -n 2p "$tmp/w/categories.csv" | cut -d, -f1)"
} >"$tmp/big.csv"
"$bin" --db "$db" import --products "$tmp/big.csv" >"$tmp/out" 2>"$tmp/err"
st=$?
case $st in
0) [ "$(count)" -eq $((before + 1)) ] || fail "2 MiB name: exit 0 but $(count) products"
   before=$(count)
   echo "2 MiB field: imported" ;;
2) [ "$(count)" -eq "$before" ] || fail "2 MiB name: refused but products changed"
   echo "2 MiB field: refused: $(head -n 1 "$tmp/err")" ;;
*) fail "2 MiB name: exit $st: $(head -c 500 "$tmp/err")" ;;
esac

# 1b. one record over the limit (65 MiB line)
{
    echo "receipt_id,product_id"
    printf 'R1,'
    head -c 68157440 /dev/zero | tr '\0' 'x'
    echo
} >"$tmp/huge.csv"
"$bin" --db "$db" import --threads 2 "$tmp/huge.csv" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st -eq 2 ] || fail "65 MiB record: exit $st (expected 2): $(head -c 500 "$tmp/err")"
grep -q "huge.csv:2" "$tmp/err" || fail "65 MiB record: no file:line in: $(head -c 500 "$tmp/err")"
echo "65 MiB record: $(head -c 300 "$tmp/err")"
rm -f "$tmp/huge.csv"

# 1c. a runaway quote: reported where it opened
{
    echo "receipt_id,product_id"
    echo "R1,P000001"
    echo "R2,\"P000002"
    sed -n '2,400p' "$tmp/w/receipts.csv" | cut -d, -f1,2
} >"$tmp/quote.csv"
"$bin" --db "$db" import "$tmp/quote.csv" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st -eq 2 ] || fail "runaway quote: exit $st (expected 2): $(head -c 500 "$tmp/err")"
grep -q "quote.csv:3:" "$tmp/err" || fail "runaway quote: not reported at line 3: $(cat "$tmp/err")"
echo "runaway quote: $(head -n 1 "$tmp/err")"
[ "$(count)" -eq "$before" ] || fail "failed imports changed the products"
out=$(sqlite3 "$db" "PRAGMA integrity_check")
[ "$out" = "ok" ] || fail "integrity_check: $out"

# 2. relative database path, models used from another working directory
mkdir -p "$tmp/cwd/sub" "$tmp/elsewhere"
(
    cd "$tmp/cwd" || exit 1
    "$bin" --db sub/rel.db import -q --products "$tmp/w/products.csv" \
        --categories "$tmp/w/categories.csv" "$tmp/w/receipts.csv" || exit 1
    "$bin" --db sub/rel.db train --kind product --min-receipts 1000000 --dim 8 --epochs 1 \
        --threads 1 --min_count 1 >/dev/null 2>&1 || exit 2
) || fail "relative --db: import/train failed"
pid_=$(sed -n 2p "$tmp/w/products.csv" | cut -d, -f1)
for dir in "$tmp/cwd" "$tmp/cwd/sub" "$tmp/elsewhere"; do
    rel=$(python3 -c 'import os,sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' \
        "$tmp/cwd/sub/rel.db" "$dir" 2>/dev/null) || rel=$tmp/cwd/sub/rel.db
    (cd "$dir" && "$bin" --db "$rel" export --format word2vec --out "$tmp/x.txt") \
        >"$tmp/out" 2>"$tmp/err" ||
        fail "relative --db: the active model does not load from $dir (--db $rel): $(cat "$tmp/err")"
    (cd "$dir" && "$bin" --db "$rel" recommend --product "$pid_" --kind synonyms -k 3) \
        >"$tmp/out" 2>&1 || fail "relative --db: recommend from $dir failed: $(cat "$tmp/out")"
    grep -q "not in the product model" "$tmp/out" &&
        fail "relative --db: from $dir (--db $rel) the product model did not load: $(head -n 8 "$tmp/out")"
done
echo "relative --db: models load from every working directory"

# 2b. a relative path in the registry means the database's directory, even when the
#     working directory holds a file of the same name (another world's model)
act=$(sqlite3 "$tmp/cwd/sub/rel.db" "SELECT path FROM models WHERE active AND kind = 'product' LIMIT 1")
base=$(basename "$act")
sqlite3 "$tmp/cwd/sub/rel.db" "UPDATE models SET path = '$base' WHERE path = '$act'"
cp "$act" "$tmp/cwd/sub/$base"
printf 'not a model\n' >"$tmp/elsewhere/$base"
(cd "$tmp/elsewhere" && "$bin" --db "$tmp/cwd/sub/rel.db" recommend --product "$pid_" \
    --kind synonyms -k 3) >"$tmp/out" 2>&1 ||
    fail "relative registry path: took the working directory's file: $(head -c 300 "$tmp/out")"
sqlite3 "$tmp/cwd/sub/rel.db" "UPDATE models SET path = '$act' WHERE path = '$base'"
echo "relative registry path: resolved against the database's directory"

# 3. a failed first import leaves nothing behind; an existing database is never removed
for target in "$tmp/new.db" "$tmp/newdir/new.db"; do
    "$bin" --db "$target" import "$tmp/quote.csv" >"$tmp/out" 2>"$tmp/err"
    st=$?
    [ $st -eq 2 ] || fail "failed first import: exit $st (expected 2): $(cat "$tmp/err")"
    for f in "$target" "$target-wal" "$target-shm" "$target-journal"; do
        [ ! -e "$f" ] || fail "failed first import left $f behind"
    done
done
[ ! -e "$tmp/newdir" ] || fail "failed first import left the directory it created"
# a directory that existed stays, even when empty
mkdir "$tmp/keepdir"
"$bin" --db "$tmp/keepdir/new.db" import "$tmp/quote.csv" >/dev/null 2>&1
[ -d "$tmp/keepdir" ] && [ ! -e "$tmp/keepdir/new.db" ] ||
    fail "failed first import into an existing directory: wrong cleanup"
# an existing database (even an empty one) is kept as it was
sum0=$(cksum <"$db")
"$bin" --db "$db" import "$tmp/quote.csv" >/dev/null 2>&1 && fail "bad import succeeded"
[ "$(cksum <"$db")" = "$sum0" ] || fail "failed import changed the existing database file"
sqlite3 "$tmp/empty.db" "PRAGMA user_version=0" || fail "sqlite3 could not make an empty db"
: >"$tmp/zero.db"
for keep in "$tmp/empty.db" "$tmp/zero.db"; do
    "$bin" --db "$keep" import "$tmp/quote.csv" >/dev/null 2>&1
    [ -e "$keep" ] || fail "a failed import removed the pre-existing $keep"
done
echo "failed first import: nothing left behind; existing databases kept"
echo "ok"
exit 0
