#!/bin/sh
# test_tmux.sh - the TUI on a real terminal: tmux runs `recoscope tui` on the fixed
# test world; keys go in with send-keys, the screen comes back with capture-pane.
# Covers start, search, resize (down to "too small" and back), SIGTERM, SIGHUP, Ctrl-C
# (exit 128 + the signal, terminal restored), TERM=dumb (refused) and quit, in UTF-8 and
# in LC_ALL=C with NO_COLOR.  Skips (77) without tmux.
set -u
command -v tmux >/dev/null 2>&1 || { echo "tmux not installed: skipped"; exit 77; }
: "${RS_BIN:?RS_BIN not set}" "${RS_MKWORLD:?RS_MKWORLD not set}"

dir=$(mktemp -d "${TMPDIR:-/tmp}/rs-tmux.XXXXXX") || exit 1
sock="$dir/tmux.sock"
session=rs
fails=0
cleanup() {
    tmux -S "$sock" kill-server 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

db=$("$RS_MKWORLD" "$dir") || { echo "cannot build the test world"; exit 1; }

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
screen() { tmux -S "$sock" capture-pane -p -t "$session"; }
# waits until the screen holds the text (up to ~5 s)
wait_for() {
    i=0
    while [ $i -lt 50 ]; do
        screen | grep -F -q -- "$1" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    fail "screen never showed '$1'"
    screen | sed 's/^/    | /'
    return 1
}
keys() { tmux -S "$sock" send-keys -t "$session" "$@"; }
alive() { tmux -S "$sock" has-session -t "$session" 2>/dev/null; }
wait_exit() {
    i=0
    while [ $i -lt 50 ]; do
        alive || return 0
        [ -f "$dir/exit" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    fail "the TUI did not exit"
    return 1
}

# after the TUI ended: the terminal is back in cooked mode with echo (stty of the shell
# that ran it) and the normal screen is shown (no TUI title left on it)
terminal_restored() {
    i=0
    while [ $i -lt 20 ] && [ ! -s "$dir/stty" ]; do sleep 0.1; i=$((i + 1)); done
    grep -q -- " icanon" "$dir/stty" 2>/dev/null || fail "$1: terminal left without icanon"
    grep -q -- " echo " "$dir/stty" 2>/dev/null || fail "$1: terminal left without echo"
    screen | grep -q "recoscope │ city" && fail "$1: the TUI screen was left on the terminal"
    echo "ok: $1 restores the terminal"
}

start() { # locale, extra env (TERM=... there overrides the default)
    rm -f "$dir/exit" "$dir/stty"
    # a server whose last session was just killed may still be exiting: try again
    for try in 1 2 3; do
        tmux -S "$sock" new-session -d -s "$session" -x 80 -y 24 \
            "env TERM=xterm-256color LC_ALL=$1 $2 '$RS_BIN' --db '$db' tui; rc=\$?; stty -a > '$dir/stty'; echo \$rc > '$dir/exit'; sleep 30" &&
            return 0
        sleep 0.5
    done
    fail "tmux new-session"
    return 1
}
exit_code() { cat "$dir/exit" 2>/dev/null; }

# --- UTF-8, colour: start, search, resize, quit
start C.UTF-8 ""
wait_for "Hummus" && echo "ok: first frame (the product the models' evidence picks)"
screen | grep -q "Synonyms" || fail "no Synonyms pane"
screen | grep -q "Popularity in Springfield" || fail "no histogram"
keys /
wait_for "Search products"
keys -l "chips"
wait_for "5 matches" && echo "ok: incremental search"
keys Down Up Enter
wait_for "match 1 of 5" && echo "ok: search pick"
screen | grep -q "Salted Chips 200g  Chips" || fail "picked product not current"
tmux -S "$sock" resize-window -t "$session" -x 60 -y 20
wait_for "terminal too small" && echo "ok: too small"
tmux -S "$sock" resize-window -t "$session" -x 120 -y 40
wait_for "Salted Chips 200g" 
screen | awk 'length > 80 { found = 1 } END { exit !found }' || fail "no wide lines after resize"
echo "ok: resize to 120x40"
# models change underneath (as when `recoscope train` finishes): the TUI notices
if command -v sqlite3 >/dev/null 2>&1; then
    sqlite3 "$db" "UPDATE models SET active = 0 WHERE city_id = 1 AND kind = 'category'" ||
        fail "sqlite3 update"
    wait_for "models changed: r reloads" && echo "ok: models change noticed"
    keys r
    wait_for "reloaded: new models in use" && echo "ok: reload"
else
    echo "sqlite3 CLI missing: reload check skipped"
fi
# city switch: the city's recommender opens in the background, then the panes fill
keys c Down Enter
wait_for "city: Shelbyville" && wait_for "Popularity in Shelbyville" && echo "ok: city switch"
keys BSpace
wait_for "Popularity in Springfield" && echo "ok: back to the previous city"
keys '?'
wait_for "Help: keys of recoscope" && echo "ok: help"
keys q
sleep 0.2
screen | grep -q "Help: keys" && fail "q did not close the help overlay"
keys q
wait_exit
[ "$(cat "$dir/exit" 2>/dev/null)" = 0 ] || fail "exit code $(cat "$dir/exit" 2>/dev/null)"
echo "ok: q quits with 0"
# last-used state was written beside the database
grep -q '"product"' "$db-tui.json" 2>/dev/null || fail "no state file $db-tui.json"
tmux -S "$sock" kill-session -t "$session" 2>/dev/null

# --- restart: the last-used product comes back
start C.UTF-8 ""
wait_for "Salted Chips 200g" && echo "ok: last-used product restored"
# SIGTERM restores the terminal and exits cleanly
pid=$(pgrep -f -n "recoscope --db $db tui" 2>/dev/null || true)
if [ -n "$pid" ]; then
    kill -TERM "$pid"
    wait_exit && echo "ok: SIGTERM exits"
    terminal_restored SIGTERM
    [ "$(exit_code)" = 143 ] || fail "SIGTERM: exit code $(exit_code), not 143"
else
    keys q
    wait_exit
fi
tmux -S "$sock" kill-session -t "$session" 2>/dev/null

# --- SIGHUP (the terminal window closed): the same clean exit
start C.UTF-8 ""
wait_for "Popularity in Springfield"
pid=$(pgrep -f -n "recoscope --db $db tui" 2>/dev/null || true)
if [ -n "$pid" ]; then
    kill -HUP "$pid"
    wait_exit && echo "ok: SIGHUP exits"
    terminal_restored SIGHUP
    [ "$(exit_code)" = 129 ] || fail "SIGHUP: exit code $(exit_code), not 129"
else
    fail "no TUI process to send SIGHUP"
fi
tmux -S "$sock" kill-session -t "$session" 2>/dev/null

# --- i11_17_ctrl_c (issue 11 item 17): Ctrl-C exits as an interrupted program (130),
# with the terminal restored and the state kept
start C.UTF-8 ""
wait_for "Popularity in Springfield"
rm -f "$db-tui.json"
keys C-c
wait_exit && echo "ok: Ctrl-C exits"
terminal_restored Ctrl-C
[ "$(exit_code)" = 130 ] || fail "i11_17_ctrl_c: exit code $(exit_code), not 130"
[ -f "$db-tui.json" ] || fail "i11_17_ctrl_c: no state file written"
echo "ok: i11_17_ctrl_c"
tmux -S "$sock" kill-session -t "$session" 2>/dev/null

# --- i11_17_term_dumb (issue 11 item 17): a terminal that cannot move the cursor is
# refused with a clear message and exit code 1, the screen left as it was
start C.UTF-8 "TERM=dumb"
wait_exit
[ "$(exit_code)" = 1 ] || fail "i11_17_term_dumb: exit code $(exit_code), not 1"
screen | grep -q "TERM=dumb cannot move the cursor" || fail "i11_17_term_dumb: no message"
screen | grep -q "Popularity" && fail "i11_17_term_dumb: the TUI drew on a dumb terminal"
echo "ok: i11_17_term_dumb"
tmux -S "$sock" kill-session -t "$session" 2>/dev/null

# --- LC_ALL=C, NO_COLOR: ASCII glyphs only
start C "NO_COLOR=1"
wait_for "Popularity in Springfield"
screen | LC_ALL=C grep -q '[^ -~]' && fail "non-ASCII bytes on an LC_ALL=C screen"
screen | grep -q "recoscope | city" || fail "no ASCII title separator"
echo "ok: ASCII screen"
keys /
keys -l "tea"
wait_for "Green Tea"
screen | grep -q "????? Green Tea" || fail "CJK not replaced in ASCII"
keys Escape
keys q
wait_exit
tmux -S "$sock" kill-session -t "$session" 2>/dev/null

if [ $fails -gt 0 ]; then
    echo "$fails failed"
    exit 1
fi
echo "all tmux checks passed"
