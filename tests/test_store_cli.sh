#!/bin/sh
# test_store_cli.sh - the database file and what the CLI prints from it (issue 11 items
# 12 and 16, issue 10's stats sanitizer):
#   i11_12_db_not_regular  a FIFO, a directory, a link to /dev/null or to nothing as
#                          --db: a clear error naming the path, exit 1, never a hang,
#                          never a file created beside the target;
#   i11_16_foreign_sqlite  another program's SQLite file with user_version 1 is not ours
#                          (and is not switched to WAL); ours is stamped with the
#                          application id, and a database written before the id is
#                          still recognised;
#   i11_16_first_import_race  two first imports started together on a new path both
#                          succeed (the schema is created under a lock);
#   i11_16_damaged         a damaged b-tree gives the one "database file is damaged"
#                          message, exit 2, for stats, recommend, snapshot, eval;
#   i10_stats_controls     `recoscope stats` never prints a C0/C1 control byte from data
#                          (a name holding U+009B and an OSC sequence).
#   RS_BIN  the recoscope binary
set -u
bin=${RS_BIN:?RS_BIN must name the recoscope binary}
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: no sqlite3 shell"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac

"$bin" synth --out "$tmp/w" --seed 3 --cities 1 --departments 2 --categories 6 \
    --products 60 --receipts 800 >/dev/null || fail "synth"
imp() { "$bin" --db "$1" import -q --products "$tmp/w/products.csv" \
    --categories "$tmp/w/categories.csv" "$tmp/w/receipts.csv"; }

# --- i11_12_db_not_regular -------------------------------------------------------
mkfifo "$tmp/fifo.db"
mkdir "$tmp/dir.db"
ln -s /dev/null "$tmp/null.db"
ln -s "$tmp/nothing-here" "$tmp/dangling.db"
for target in fifo.db dir.db null.db dangling.db; do
    for cmd in stats "import -q $tmp/w/receipts.csv" "recommend --product x"; do
        timeout 10 "$bin" --db "$tmp/$target" $cmd >"$tmp/out" 2>"$tmp/err"
        st=$?
        [ $st -eq 124 ] && fail "i11_12_db_not_regular: $target $cmd hangs"
        [ $st -eq 1 ] || fail "i11_12_db_not_regular: $target $cmd: exit $st: $(cat "$tmp/err")"
        grep -q "$target" "$tmp/err" || fail "i11_12_db_not_regular: $target: message does not name it"
    done
    echo "i11_12_db_not_regular: $target: $(head -n 1 "$tmp/err")"
done
[ -e /dev/null-journal ] && [ ! -e "$tmp/had-null-journal" ] && echo "note: /dev/null-journal exists on this machine"
[ -e "$tmp/nothing-here" ] && fail "i11_12_db_not_regular: a dangling link's target was created"
[ -p "$tmp/fifo.db" ] || fail "i11_12_db_not_regular: the FIFO was replaced"
echo "i11_12_db_not_regular: ok"

# --- i11_16_foreign_sqlite -------------------------------------------------------
sqlite3 "$tmp/other.db" "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); PRAGMA user_version=1;"
before=$(md5sum <"$tmp/other.db")
for cmd in stats "import -q $tmp/w/receipts.csv"; do
    "$bin" --db "$tmp/other.db" $cmd >"$tmp/out" 2>"$tmp/err"
    st=$?
    [ $st -eq 2 ] || fail "i11_16_foreign_sqlite: $cmd: exit $st: $(cat "$tmp/err")"
    grep -q "not a recoscope database" "$tmp/err" || fail "i11_16_foreign_sqlite: $(cat "$tmp/err")"
done
[ "$(md5sum <"$tmp/other.db")" = "$before" ] || fail "i11_16_foreign_sqlite: the file changed"
[ "$(sqlite3 "$tmp/other.db" 'PRAGMA journal_mode')" = delete ] || fail "i11_16_foreign_sqlite: switched to WAL"
# another program that happens to have tables named like ours but its own application id
sqlite3 "$tmp/other2.db" "PRAGMA application_id=1234; CREATE TABLE meta(key, value); PRAGMA user_version=1;"
"$bin" --db "$tmp/other2.db" stats >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] || fail "i11_16_foreign_sqlite: application id 1234 taken for ours"
imp "$tmp/ours.db" || fail "import into a new database"
[ "$(sqlite3 "$tmp/ours.db" 'PRAGMA application_id')" = 1381188431 ] || fail "i11_16: no application id"
# a database of ours from before the id (schema version 1): recognised, and stamped
# (and upgraded) by a writer
sqlite3 "$tmp/ours.db" "PRAGMA application_id=0; DROP INDEX receipts_customer; DROP TABLE customers; PRAGMA user_version=1"
"$bin" --db "$tmp/ours.db" stats >/dev/null 2>"$tmp/err" || fail "i11_16: legacy database refused: $(cat "$tmp/err")"
imp "$tmp/ours.db" || fail "i11_16: legacy database: import"
[ "$(sqlite3 "$tmp/ours.db" 'PRAGMA application_id')" = 1381188431 ] || fail "i11_16: legacy database not stamped"
[ "$(sqlite3 "$tmp/ours.db" 'PRAGMA user_version')" = 3 ] || fail "i11_16: legacy database not upgraded"
echo "i11_16_foreign_sqlite: ok"

# --- i11_16_first_import_race ----------------------------------------------------
for round in 1 2 3 4 5 6 7 8 9 10; do
    db=$tmp/race$round.db
    imp "$db" 2>"$tmp/e1" & p1=$!
    imp "$db" 2>"$tmp/e2" & p2=$!
    wait $p1; s1=$?
    wait $p2; s2=$?
    [ $s1 -eq 0 ] && [ $s2 -eq 0 ] || fail "i11_16_first_import_race: exits $s1 $s2: $(cat "$tmp/e1" "$tmp/e2")"
    n=$(sqlite3 "$db" "SELECT count(*) FROM receipts")
    [ "$n" -gt 0 ] || fail "i11_16_first_import_race: no receipts"
done
echo "i11_16_first_import_race: ok (10 rounds)"

# --- i11_16_damaged --------------------------------------------------------------
cp "$tmp/ours.db" "$tmp/bad.db"
sqlite3 "$tmp/bad.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
# overwrite the middle of the file (b-tree pages of receipt_items) with junk
size=$(stat -c %s "$tmp/bad.db")
dd if=/dev/urandom of="$tmp/bad.db" bs=4096 seek=$((size / 4096 / 2)) count=8 conv=notrunc 2>/dev/null
for cmd in stats "recommend --product $(sed -n 2p "$tmp/w/products.csv" | cut -d, -f1)" \
           "snapshot --rows 24 --cols 80" "eval --k 5"; do
    "$bin" --db "$tmp/bad.db" $cmd >"$tmp/out" 2>"$tmp/err"
    st=$?
    if grep -qi "not an error" "$tmp/err"; then fail "i11_16_damaged: $cmd says 'not an error'"; fi
    if [ $st -ne 0 ]; then
        grep -q "damaged\|malformed\|not a recoscope" "$tmp/err" || \
            fail "i11_16_damaged: $cmd: exit $st: $(head -c 400 "$tmp/err")"
    fi
    echo "i11_16_damaged: $cmd: exit $st $(head -n 1 "$tmp/err" | cut -c1-160)"
done

# --- i10_stats_controls ----------------------------------------------------------
db=$tmp/ctl.db
printf 'category,department\nCat \302\233 x,Dept \033[2J\n' >"$tmp/cat.csv"
printf 'product_id,name,category,department\nP1,"Evil \033]0;owned\007 \302\2332J name",Cat \302\233 x,Dept \033[2J\nP2,Plain,Cat \302\233 x,Dept \033[2J\n' >"$tmp/prod.csv"
printf 'receipt_id,product_id\nR1,P1\nR1,P2\nR2,P1\n' >"$tmp/rec.csv"
"$bin" --db "$db" import -q --products "$tmp/prod.csv" --categories "$tmp/cat.csv" "$tmp/rec.csv" \
    || fail "i10_stats_controls: import"
for mode in "" "--json"; do
    for loc in C.UTF-8 C; do
        LC_ALL=$loc "$bin" --db "$db" stats $mode >"$tmp/out" 2>&1 || fail "i10_stats_controls: stats $mode"
        grep -q Plain "$tmp/out" || fail "i10_stats_controls: stats printed no product"
        # no C0 control but newline, no DEL, no C1 (as UTF-8: C2 80..C2 9F)
        if LC_ALL=C grep -q "$(printf '[\001-\011\013-\037\177]')" "$tmp/out"; then
            fail "i10_stats_controls: C0 control in stats $mode ($loc)"; fi
        if LC_ALL=C grep -q "$(printf '\302[\200-\237]')" "$tmp/out"; then
            fail "i10_stats_controls: C1 control in stats $mode ($loc)"; fi
    done
done
echo "i10_stats_controls: ok"
echo "all store checks passed"
