#!/bin/sh
# test_demo_tmux.sh - `recoscope demo` as a new user meets it (issue 15): on a real
# terminal (tmux, 80x24) the first city is trained first and the interface opens on
# it with trained models, while the other cities train in a background child whose
# log is beside the database; quitting stops the child and says so; the next demo
# opens at once and goes on with the cities left.  Skips (77) without tmux.
set -u
command -v tmux >/dev/null 2>&1 || { echo "tmux not installed: skipped"; exit 77; }
command -v sqlite3 >/dev/null 2>&1 || { echo "no sqlite3 shell: skipped"; exit 77; }
: "${RS_BIN:?RS_BIN not set}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/rs-demo.XXXXXX") || exit 1
sock="$dir/tmux.sock"
fails=0
cleanup() {
    tmux -S "$sock" kill-server 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
screen() { tmux -S "$sock" capture-pane -p -t demo; }
wait_for() { # text seconds
    i=0
    while [ $i -lt $(( $2 * 10 )) ]; do
        screen | grep -F -q -- "$1" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    fail "screen never showed '$1' in $2 s"
    screen | sed 's/^/    | /'
    return 1
}
db="$dir/data/recoscope.db"
log="$db-demo-train.log"
t0=$(date +%s)
tmux -S "$sock" new-session -d -s demo -x 80 -y 24 \
    "'$RS_BIN' --db '$db' demo; echo demo-exit=\$?; sleep 30"
if wait_for "Synonyms" 600; then
    echo "first frame after $(( $(date +%s) - t0 )) s"
    # the Synonyms header carries the trust signal of the trained product model, in the
    # longest form that fits beside the opening product's mask note
    screen | grep -Eq "Synonyms .*(product SGNS HR@10|HR@10 [.0-9]+ [<>=] pop)" ||
        fail "the first screen has no trained product model"
    n=$(sqlite3 "$db" "SELECT count(*) FROM models m JOIN cities c ON c.id = m.city_id WHERE m.active AND c.id = 1")
    [ "$n" -ge 2 ] || fail "the first city has $n active models"
    [ -f "$log" ] || fail "no background training log"
    sleep 2
    grep -q "\[" "$log" || fail "the background training wrote nothing: $(cat "$log")"
    tmux -S "$sock" send-keys -t demo q
    wait_for "demo-exit=0" 30
    screen | tr -d '\n' | grep -q "background training was stopped\|background training finished" ||
        fail "quitting did not say what became of the background training"
    sleep 1
    pgrep -f -- "--db $db" >/dev/null && fail "a recoscope process of the demo is still running"
    # the next demo opens at once
    tmux -S "$sock" kill-session -t demo
    t1=$(date +%s)
    tmux -S "$sock" new-session -d -s demo -x 80 -y 24 \
        "'$RS_BIN' --db '$db' demo; echo demo-exit=\$?; sleep 30"
    wait_for "Synonyms" 120 && echo "second start after $(( $(date +%s) - t1 )) s"
    tmux -S "$sock" send-keys -t demo q
    wait_for "demo-exit=0" 30
fi
[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
