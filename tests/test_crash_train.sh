#!/bin/sh
# test_crash_train.sh - SIGKILL `recoscope train` at seeded random points and check
# that the database is intact, the previously active model stays registered, loadable
# and active (or a completely written new one replaced it), and that no registered path
# is missing or half written.
#   RS_BIN  the recoscope binary;  RS_CRASH_RUNS (default 6), RS_CRASH_SEED (default 1)
set -u
bin=${RS_BIN:?RS_BIN must name the recoscope binary}
runs=${RS_CRASH_RUNS:-6}
seed=${RS_CRASH_SEED:-1}
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: no sqlite3 shell"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

"$bin" synth --out "$tmp/w" --seed 5 --cities 1 --departments 4 --categories 20 \
    --products 300 --receipts 3000 >/dev/null || fail "synth"
db=$tmp/t.db
"$bin" --db "$db" import -q --products "$tmp/w/products.csv" \
    --categories "$tmp/w/categories.csv" "$tmp/w/receipts.csv" || fail "import"
quick="--kind product --min-receipts 1000000 --threads 1 --min_count 1"
"$bin" --db "$db" train $quick --dim 8 --epochs 1 >"$tmp/first.out" 2>&1 ||
    fail "first train: $(cat "$tmp/first.out")"
q="SELECT id FROM models WHERE city_id = 0 AND kind = 'product' AND split = 'all' AND active"
prev=$(sqlite3 "$db" "$q")
[ -n "$prev" ] || fail "no active product model after the first train"
pid_=$(sed -n 2p "$tmp/w/products.csv" | cut -d, -f1)

model_ok() { # path -> 0 when the file is a complete model file
    f=$1
    case $f in /*) ;; *) f=$(dirname "$db")/$f ;; esac
    [ -f "$f" ] || { echo "missing: $f"; return 1; }
    [ "$(head -c 8 "$f")" = "RSCOPEM1" ] || { echo "bad magic: $f"; return 1; }
    size=$(wc -c <"$f")
    # total file length: u64 little-endian at offset 96
    len=$(od -A n -t u8 -j 96 -N 8 "$f" | tr -d ' ')
    [ "$len" = "$size" ] || { echo "truncated: $f ($size bytes, header says $len)"; return 1; }
}
check() { # label
    out=$(sqlite3 "$db" "PRAGMA integrity_check" 2>&1)
    [ "$out" = "ok" ] || fail "$1: integrity_check: $out"
    [ -n "$(sqlite3 "$db" "SELECT id FROM models WHERE id = $prev")" ] ||
        fail "$1: the previous model $prev is no longer registered"
    sqlite3 "$db" "SELECT path FROM models" >"$tmp/paths" || fail "$1: reading models"
    while IFS= read -r p; do
        model_ok "$p" >"$tmp/why" || fail "$1: registered model not complete: $(cat "$tmp/why")"
    done <"$tmp/paths"
    act=$(sqlite3 "$db" "$q")
    [ -n "$act" ] || fail "$1: no active product model"
    "$bin" --db "$db" recommend --product "$pid_" --kind synonyms -k 3 >"$tmp/rec" 2>&1 ||
        fail "$1: recommend failed: $(cat "$tmp/rec")"
    grep -q "not in the product model" "$tmp/rec" && fail "$1: the active model did not load"
    grep -q "cosine" "$tmp/rec" || fail "$1: no synonyms from the active model: $(cat "$tmp/rec")"
    "$bin" --db "$db" export --format word2vec --out "$tmp/x.txt" >"$tmp/exp" 2>&1 ||
        fail "$1: the active model does not load (export): $(cat "$tmp/exp")"
}
check "after the first train"

slow="$quick --dim 32 --epochs 40"
t0=$(date +%s%N)
"$bin" --db "$db" train $slow >"$tmp/t0.out" 2>&1 || fail "timed train: $(cat "$tmp/t0.out")"
t1=$(date +%s%N)
dur_ms=$(((t1 - t0) / 1000000))
echo "a complete train takes ${dur_ms} ms"
check "after a complete train"
prev=$(sqlite3 "$db" "$q")

delays=$(awk -v n="$runs" -v s="$seed" -v d="$dur_ms" \
    'BEGIN { srand(s); for (i = 0; i < n; i++) printf "%d ", rand() * d * 1.2 }')
i=0
for ms in $delays; do
    i=$((i + 1))
    nbefore=$(sqlite3 "$db" "SELECT count(*) FROM models")
    "$bin" --db "$db" train $slow >"$tmp/k$i.out" 2>&1 &
    pid=$!
    sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid"
    st=$?
    check "run $i (kill after $ms ms, exit $st)"
    act=$(sqlite3 "$db" "$q")
    nafter=$(sqlite3 "$db" "SELECT count(*) FROM models")
    if [ "$act" = "$prev" ]; then
        echo "run $i: killed after $ms ms (exit $st): previous model $prev still active ($nbefore -> $nafter registered)"
    else
        echo "run $i: killed after $ms ms (exit $st): new model $act active and loadable"
        prev=$act
    fi
done
"$bin" --db "$db" train $quick --dim 8 --epochs 1 >"$tmp/last.out" 2>&1 ||
    fail "train after the kills: $(cat "$tmp/last.out")"
check "a train after the kills"
leftover=$(ls "$tmp"/t-models 2>/dev/null | grep -c '\.tmp$')
echo "kills: $i; unregistered .tmp files left in the models directory: $leftover"
exit 0
