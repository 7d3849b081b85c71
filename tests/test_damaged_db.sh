#!/bin/sh
# test_damaged_db.sh - every subcommand on a damaged database (one b-tree at a time
# overwritten with junk): the one "database file is damaged" message and exit 2
# (RS_EDATA), or, when the command never reads the damaged b-tree, exit 0 with the
# same output as on the sound database.  Never exit 3, never "not an error", never a
# silently different answer (a failed read taken for "no rows").
#   RS_BIN  the recoscope binary
set -u
bin=${RS_BIN:?RS_BIN must name the recoscope binary}
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: no sqlite3 shell"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "SKIP: no curl"; exit 77; }
command -v script >/dev/null 2>&1 || { echo "SKIP: no script(1)"; exit 77; }
tmp=$(mktemp -d)
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$bin" synth --out "$tmp/w" --seed 3 --cities 2 --departments 2 --categories 6 \
    --products 60 --receipts 900 >/dev/null || { echo "FAIL: synth"; exit 1; }
"$bin" --db "$tmp/good.db" import -q --products "$tmp/w/products.csv" \
    --categories "$tmp/w/categories.csv" "$tmp/w/receipts.csv" || { echo "FAIL: import"; exit 1; }
"$bin" --db "$tmp/good.db" train --no-search >/dev/null 2>&1 || { echo "FAIL: train"; exit 1; }
sqlite3 "$tmp/good.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
pid=$(sed -n 2p "$tmp/w/products.csv" | cut -d, -f1)
pid2=$(sed -n 3p "$tmp/w/products.csv" | cut -d, -f1)
printf '["%s"]\n["%s","%s"]\n' "$pid" "$pid" "$pid2" >"$tmp/batch.txt"
pagesize=$(sqlite3 "$tmp/good.db" "PRAGMA page_size")

# The commands, one a line: a name, then the arguments.  Outputs are compared after
# norm() takes out timings and the names of per-run files.
cat >"$tmp/cmds" <<EOF
stats|stats
stats-json|stats --json
recommend|recommend --product $pid
recommend-json|recommend --product $pid --json
recommend-batch|recommend --batch $tmp/batch.txt --threads 1
snapshot|snapshot --rows 24 --cols 80
snapshot-fast|snapshot --rows 24 --cols 80 --timing
eval|eval --k 5
models|models
models-json|models --json
map|map --out OUT.svg
cluster|cluster
cluster-json|cluster --json
export|export --format word2vec --out OUT.txt
train|train --kind ease
EOF
norm() {
    sed -e 's/[0-9][0-9.]* *s)/Ts)/g; s/ [0-9][0-9.]*$//; s/[0-9][0-9.]* s\b/T s/g' \
        -e 's/[0-9]\{8\}T[0-9]\{6\}-[0-9]*/STAMP/g; s#'"$tmp"'/[a-z0-9]*#DIR#g' "$1"
}

# run NAME DB ARGS...: stdout+files in $tmp/o.NAME, stderr in $tmp/e.NAME, exit in $st
run() {
    name=$1 db=$2
    shift 2
    args=$(printf '%s' "$*" | sed "s#OUT#$tmp/out.$name#g")
    rm -f "$tmp/out.$name".*
    # shellcheck disable=SC2086
    timeout 60 "$bin" --db "$db" $args >"$tmp/o.$name" 2>"$tmp/e.$name" </dev/null
    st=$?
    for f in "$tmp/out.$name".*; do [ -f "$f" ] && cat "$f" >>"$tmp/o.$name"; done
    norm "$tmp/o.$name" >"$tmp/n.$name"
}

# serve NAME DB: starts `serve --preload`; asks three URLs; st = the exit code when it
# refused to start, else 0 with the answers in $tmp/n.NAME
serve() {
    name=$1 db=$2
    : >"$tmp/n.$name"
    rm -f "$tmp/so" # the port line of the previous server must not be read for this one
    "$bin" --db "$db" serve --listen 127.0.0.1:0 --preload --threads 1 >"$tmp/so" 2>"$tmp/e.$name" &
    spid=$!
    port=
    i=0
    while [ $i -lt 100 ] && [ -z "$port" ]; do
        kill -0 "$spid" 2>/dev/null || break
        port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/so" 2>/dev/null)
        [ -z "$port" ] && sleep 0.1
        i=$((i + 1))
    done
    if [ -z "$port" ]; then
        kill -0 "$spid" 2>/dev/null && { kill "$spid"; echo "serve: never listened" >>"$tmp/e.$name"; }
        wait "$spid"; st=$?; spid=
        return
    fi
    for u in "v1/recommend?product=$pid" "v1/similar?product=$pid" healthz; do
        curl -s -w ' %{http_code}\n' "http://127.0.0.1:$port/$u" |
            sed 's/"uptime_seconds":[0-9]*//' >>"$tmp/n.$name"
    done
    curl -s "http://127.0.0.1:$port/metrics" | grep -v '^#' | grep -v 'seconds\|uptime\|bytes\|requests\|_time' >>"$tmp/n.$name"
    if kill -0 "$spid" 2>/dev/null; then
        kill "$spid"; wait "$spid"; st=0
    else
        wait "$spid"; st=$? # it stopped by itself: judged by its exit code
    fi
    spid=
}

# tui NAME DB: the interactive TUI on a pseudo-terminal, quit with q after 2 s
tui() {
    name=$1 db=$2
    (sleep 1; printf q) | TERM=xterm timeout 20 script -qec \
        "'$bin' --db '$db' tui 2>'$tmp/e.$name'; echo \"EXIT=\$?\" >'$tmp/x.$name'" \
        /dev/null >/dev/null 2>&1
    st=$(sed -n 's/EXIT=//p' "$tmp/x.$name" 2>/dev/null)
    [ -n "$st" ] || st=124
}

check() { # check WHAT NAME: the verdict for one command on one damaged b-tree
    what=$1 name=$2
    if grep -qi "not an error" "$tmp/e.$name"; then fail "$what: $name says 'not an error'"; fi
    case $st in
    0)
        if [ -f "$tmp/h.$name" ] && ! cmp -s "$tmp/h.$name" "$tmp/n.$name"; then
            fail "$what: $name exits 0 with a different answer than on the sound database"
            diff "$tmp/h.$name" "$tmp/n.$name" | head -n 6 | sed 's/^/    /'
        fi ;;
    2)
        grep -q "damaged\|not a recoscope" "$tmp/e.$name" ||
            fail "$what: $name: exit 2 without the damaged message: $(head -c 300 "$tmp/e.$name")" ;;
    *) fail "$what: $name: exit $st: $(head -c 300 "$tmp/e.$name")" ;;
    esac
}

# the answers on the sound database (each on a copy: train and eval write)
while IFS='|' read -r name args; do
    cp "$tmp/good.db" "$tmp/h.db"; rm -f "$tmp/h.db-wal" "$tmp/h.db-shm"
    run "$name" "$tmp/h.db" $args
    [ $st -eq 0 ] || { echo "FAIL: $name on the sound database: exit $st: $(cat "$tmp/e.$name")"; exit 1; }
    mv "$tmp/n.$name" "$tmp/h.$name"
done <"$tmp/cmds"
# eval fits its models again, not bit for bit the same from run to run: exit and message only
rm -f "$tmp/h.eval"
serve serve "$tmp/good.db"
[ $st -eq 0 ] || { echo "FAIL: serve on the sound database: $(cat "$tmp/e.serve")"; exit 1; }
mv "$tmp/n.serve" "$tmp/h.serve"
tui tui "$tmp/good.db"
[ "$st" = 0 ] || { echo "FAIL: tui on the sound database: exit $st: $(cat "$tmp/e.tui")"; exit 1; }

# every b-tree of the schema, then the middle of the file (the earlier test's damage)
sqlite3 "$tmp/good.db" "SELECT name || '|' || rootpage FROM sqlite_master WHERE rootpage > 1" \
    >"$tmp/btrees"
size=$(stat -c %s "$tmp/good.db")
echo "middle|$((size / pagesize / 2 + 1))" >>"$tmp/btrees"
nb=0
while IFS='|' read -r bt root; do
    # RS_DAMAGED_ONLY="name ...": only these b-trees (when working on one)
    case " ${RS_DAMAGED_ONLY:-$bt} " in *" $bt "*) ;; *) continue ;; esac
    nb=$((nb + 1))
    cp "$tmp/good.db" "$tmp/bad0.db"
    head -c "$pagesize" /dev/zero | tr '\0' '\377' |
        dd of="$tmp/bad0.db" bs="$pagesize" seek=$((root - 1)) count=1 conv=notrunc 2>/dev/null
    codes=
    while IFS='|' read -r name args; do
        cp "$tmp/bad0.db" "$tmp/bad.db"
        run "$name" "$tmp/bad.db" $args
        check "$bt" "$name"
        codes="$codes $name=$st"
    done <"$tmp/cmds"
    cp "$tmp/bad0.db" "$tmp/bad.db"
    serve serve "$tmp/bad.db"
    check "$bt" serve
    codes="$codes serve=$st"
    cp "$tmp/bad0.db" "$tmp/bad.db"
    tui tui "$tmp/bad.db"
    check "$bt" tui
    codes="$codes tui=$st"
    echo "$bt (page $root):$codes"
done <"$tmp/btrees"
echo "$nb damaged b-trees, $fails failures"
[ $fails -eq 0 ] || exit 1
echo "ok"
