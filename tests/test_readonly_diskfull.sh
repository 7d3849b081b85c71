#!/bin/sh
# test_readonly_diskfull.sh - writes that cannot happen: a read-only database file, a
# read-only database directory, and a full disk (a file-size limit via prlimit, with
# SIGXFSZ ignored so writes fail with EFBIG as on a full disk).  Each must give a clear
# error on stderr and a non-zero exit (no signal, no crash), and leave the database
# intact (integrity_check ok) with the counts it had before; the active model stays.
#   RS_BIN  the recoscope binary
# Readers (stats, recommend, snapshot) must work on both.
# Read-only cases run as user nobody (setpriv) when the test runs as root, since root
# ignores file permissions; they are skipped when that is not possible.
set -u
bin=${RS_BIN:?RS_BIN must name the recoscope binary}
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: no sqlite3 shell"; exit 77; }
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
chmod 755 "$tmp"

"$bin" synth --out "$tmp/w" --seed 2 --cities 2 --departments 3 --categories 10 \
    --products 200 --receipts 2000 >/dev/null || fail "synth"
head -n 1000 "$tmp/w/receipts.csv" >"$tmp/r1.csv"
{ head -n 1 "$tmp/w/receipts.csv"; tail -n +1001 "$tmp/w/receipts.csv"; } >"$tmp/r2.csv"
chmod 644 "$tmp"/*.csv "$tmp"/w/*

counts() {
    sqlite3 "$1" "SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM receipts),
        (SELECT count(*) FROM receipt_items), (SELECT count(*) FROM import_ledger),
        (SELECT count(*) FROM models), (SELECT coalesce(max(id), 0) FROM models WHERE active)"
}
intact() { # db label expected-counts
    out=$(sqlite3 "$1" "PRAGMA integrity_check" 2>&1)
    [ "$out" = "ok" ] || fail "$2: integrity_check: $out"
    now=$(counts "$1")
    [ "$now" = "$3" ] || fail "$2: counts changed: $now (before: $3)"
}
# expect_error label status stderr-file: non-zero, not a signal, a message on stderr
expect_error() {
    [ "$2" -ne 0 ] || fail "$1: exit 0, expected an error"
    [ "$2" -lt 128 ] || fail "$1: killed by signal $(($2 - 128))"
    [ -s "$3" ] || fail "$1: exit $2 without a message on stderr"
    grep -q 'AddressSanitizer\|runtime error\|Segmentation' "$3" && fail "$1: $(cat "$3")"
    echo "$1: exit $2: $(head -n 2 "$3" | tr '\n' ' ')"
}
mkworld() { # dir: a database with the first half imported and a trained model
    mkdir -p "$1"
    "$bin" --db "$1/x.db" import -q --products "$tmp/w/products.csv" \
        --categories "$tmp/w/categories.csv" "$tmp/r1.csv" || fail "import into $1"
    "$bin" --db "$1/x.db" train --kind product --min-receipts 1000000 --dim 8 --epochs 1 \
        --threads 1 --min_count 1 >"$1/train.out" 2>&1 || fail "train in $1: $(cat "$1/train.out")"
}
quick="--kind product --min-receipts 1000000 --epochs 1 --threads 1 --min_count 1"

# ---- disk full ------------------------------------------------------------------------
if command -v prlimit >/dev/null 2>&1; then
    d=$tmp/full
    mkworld "$d"
    before=$(counts "$d/x.db")
    # 64 KiB per file: room for the WAL index (32 KiB) but not for this import's WAL
    (trap '' XFSZ; exec prlimit --fsize=65536 "$bin" --db "$d/x.db" import "$tmp/r2.csv") \
        >"$d/out" 2>"$d/err"
    expect_error "disk full: import" $? "$d/err"
    intact "$d/x.db" "disk full: import" "$before"
    # a model file bigger than the limit (dim 64: 200 x 64 x 4 bytes x 2 matrices)
    (trap '' XFSZ; exec prlimit --fsize=65536 "$bin" --db "$d/x.db" train $quick --dim 64) \
        >"$d/out" 2>"$d/err"
    expect_error "disk full: train" $? "$d/err"
    intact "$d/x.db" "disk full: train" "$before"
    ls "$d/x-models" | grep -q '\.tmp$' && fail "disk full: train left a .tmp file"
    # and everything works again with room
    "$bin" --db "$d/x.db" import -q "$tmp/r2.csv" || fail "disk full: import after the limit"
    [ "$(counts "$d/x.db")" != "$before" ] || fail "disk full: the later import changed nothing"
else
    echo "SKIP (part): no prlimit"
fi

# ---- read-only database file / directory --------------------------------------------
as_other=""
if [ "$(id -u)" -eq 0 ]; then
    if command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
        as_other="setpriv --reuid=$(id -u nobody) --regid=$(id -g nobody) --clear-groups"
    else
        echo "SKIP (part): running as root without setpriv: read-only cases not testable"
        exit 0
    fi
fi
for mode in file dir; do
    d=$tmp/ro-$mode
    mkworld "$d"
    before=$(counts "$d/x.db")
    if [ $mode = file ]; then
        chmod 777 "$d"
        chmod 444 "$d/x.db"
    else
        chmod 666 "$d/x.db"
        chmod 555 "$d"
    fi
    $as_other "$bin" --db "$d/x.db" import "$tmp/r2.csv" >"$tmp/out" 2>"$tmp/err"
    expect_error "read-only $mode: import" $? "$tmp/err"
    $as_other "$bin" --db "$d/x.db" train $quick --dim 8 >"$tmp/out" 2>"$tmp/err"
    expect_error "read-only $mode: train" $? "$tmp/err"
    # readers work: in a directory they cannot write, a WAL database has no -shm file
    # and cannot get one (the store then opens it immutable)
    pid=$(sed -n 2p "$tmp/w/products.csv" | cut -d, -f1)
    for reader in "stats" "recommend --product $pid -k 3" "snapshot --rows 24 --cols 80"; do
        # shellcheck disable=SC2086
        $as_other "$bin" --db "$d/x.db" $reader >"$tmp/out" 2>"$tmp/err" ||
            fail "read-only $mode: $reader: exit $?: $(cat "$tmp/err")"
        [ -s "$tmp/out" ] || fail "read-only $mode: $reader printed nothing"
        echo "read-only $mode: $reader: ok ($(wc -l <"$tmp/out") lines)"
    done
    $as_other "$bin" --db "$d/x.db" recommend --product "$pid" -k 3 --kind synonyms |
        grep -q "^ *1 " || fail "read-only $mode: recommend gave no synonym rows"
    chmod 755 "$d"
    chmod 644 "$d/x.db"
    intact "$d/x.db" "read-only $mode" "$before"
done
echo "ok"
exit 0
