#!/bin/sh
# test_json_hostile.sh - every JSON output of ours on a catalogue of hostile names
# (ESC sequences, the C1 CSI U+009B and a raw 0x9B byte, U+202E and the isolates, DEL,
# invalid UTF-8, U+2028) in product, category, department and city names: recommend
# --json and --batch, stats --json, models --json, cluster --json, eval --json, serve
# (/v1/recommend, /v1/similar, POST /v1/recommend, /healthz), /metrics' labels and the
# TUI's export of a view.
# Each output holds no raw control byte (C0 but tab and newline, DEL, C1), no raw bidi or line
# separator character, is valid UTF-8 and (but /metrics) parses as JSON.
#   RS_BIN  the recoscope binary
set -u
bin=${RS_BIN:?RS_BIN must name the recoscope binary}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "SKIP: no curl"; exit 77; }
tmp=$(mktemp -d)
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$bin" synth --out "$tmp/w" --seed 5 --cities 2 --departments 2 --categories 6 \
    --products 60 --receipts 1500 >/dev/null || { echo "FAIL: synth"; exit 1; }
# hostile names: every product, category, department and city
python3 - "$tmp/w" <<'EOF' || { echo "FAIL: cannot write the hostile world"; exit 1; }
import csv, io, sys
d = sys.argv[1]
H = [b"\x1b[31mRed\x1b[0m", b"csi \xc2\x9b2J", b"raw \x9b byte", b"rlo \xe2\x80\xae evil",
     b"del \x7f x", b"bad \xff\xfe utf8", b"iso \xe2\x81\xa6x\xe2\x81\xa9", b"ls \xe2\x80\xa8 x",
     b"osc \x1b]0;t\x07 t", b"lre \xe2\x80\xaa y"]
INVALID = (b"raw \x9b byte", b"bad \xff\xfe utf8")
def hostile(i, s, invalid):
    h = [x for x in H if invalid or x not in INVALID]
    return h[i % len(h)] + b" " + s.encode()
def rewrite(name, cols, invalid=False):
    rows = list(csv.reader(io.StringIO(open(f"{d}/{name}", encoding="utf-8").read())))
    head, body = rows[0], rows[1:]
    idx = [head.index(c) for c in cols if c in head]
    out = io.BytesIO()
    out.write(",".join(head).encode() + b"\n")
    seen = {}
    for r in body:
        cells = [c.encode() for c in r]
        for i in idx:
            v = r[i]
            if v not in seen:
                seen[v] = hostile(len(seen), v, invalid and i == head.index("name"))
            cells[i] = b'"' + seen[v].replace(b'"', b'""') + b'"'
        out.write(b",".join(cells) + b"\n")
    open(f"{d}/{name}", "wb").write(out.getvalue())
# invalid UTF-8 only in product names (the importer refuses it in categories)
rewrite("products.csv", ["name", "category", "department"], True)
rewrite("categories.csv", ["category", "department"])
rewrite("receipts.csv", ["city"])
EOF
"$bin" --db "$tmp/h.db" import -q --products "$tmp/w/products.csv" \
    --categories "$tmp/w/categories.csv" "$tmp/w/receipts.csv" 2>"$tmp/err" ||
    { echo "FAIL: import: $(cat "$tmp/err")"; exit 1; }
"$bin" --db "$tmp/h.db" train --min-receipts 100 >/dev/null 2>"$tmp/err" ||
    { echo "FAIL: train: $(cat "$tmp/err")"; exit 1; }
pid=$(sed -n 2p "$tmp/w/products.csv" | cut -d, -f1)
pid2=$(sed -n 3p "$tmp/w/products.csv" | cut -d, -f1)

cat >"$tmp/check.py" <<'EOF'
import json, re, sys
path, mode = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
bad = []
if not data.strip():
    bad.append("empty output")
for m in re.finditer(rb"[\x00-\x08\x0b-\x1f\x7f]", data):
    bad.append("raw control byte 0x%02x at %d" % (data[m.start()], m.start()))
try:
    text = data.decode("utf-8")
except UnicodeDecodeError as ex:
    bad.append("invalid UTF-8: %s" % ex)
    text = data.decode("utf-8", "replace")
for i, ch in enumerate(text):
    cp = ord(ch)
    if 0x80 <= cp <= 0x9f or cp in (0x2028, 0x2029, 0x200e, 0x200f) or \
            0x202a <= cp <= 0x202e or 0x2066 <= cp <= 0x2069:
        bad.append("raw U+%04X at character %d" % (cp, i))
if mode == "json":
    try:
        json.loads(text)
    except ValueError as ex:
        bad.append("not JSON: %s" % ex)
elif mode == "lines":
    for n, line in enumerate(text.splitlines(), 1):
        try:
            json.loads(line)
        except ValueError as ex:
            bad.append("line %d not JSON: %s" % (n, ex))
if bad:
    print("; ".join(bad[:4]) + (" (%d in all)" % len(bad) if len(bad) > 4 else ""))
    sys.exit(1)
EOF
# the checker itself: raw bytes are caught, clean escaped JSON passes
printf '{"a":"\302\233"}\n' >"$tmp/t1"; printf '{"a":"\\u009b \\u202e"}\n' >"$tmp/t2"
python3 "$tmp/check.py" "$tmp/t1" json >/dev/null && { echo "FAIL: the checker misses U+009B"; exit 1; }
python3 "$tmp/check.py" "$tmp/t2" json >/dev/null || { echo "FAIL: the checker refuses clean JSON"; exit 1; }

check() { # check WHAT FILE MODE
    if out=$(python3 "$tmp/check.py" "$2" "$3"); then
        echo "ok: $1 ($(wc -c <"$2") bytes)"
    else
        fail "$1: $out"
    fi
}
printf '["%s"]\n["%s","%s"]\n' "$pid" "$pid" "$pid2" >"$tmp/batch.txt"
n=0
for args in "recommend --product $pid --json|json" "recommend --product $pid --json --city all|json" \
            "recommend --basket $pid,$pid2 --json|json" \
            "recommend --batch $tmp/batch.txt --threads 1|lines" "stats --json|json" \
            "models --json|json" "cluster --json|json" "eval --json --k 5|json"; do
    a=${args%|*} mode=${args##*|}
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$bin" --db "$tmp/h.db" $a >"$tmp/o$n" 2>"$tmp/e$n" || { fail "$a: exit $?: $(head -c 300 "$tmp/e$n")"; continue; }
    check "$a" "$tmp/o$n" "$mode"
done
# the city's own name, as the user would type it back
cname=$("$bin" --db "$tmp/h.db" stats --json | python3 -c 'import json,sys; print([c["name"] for c in json.load(sys.stdin)["cities"]][0])' 2>/dev/null)
if [ -n "$cname" ]; then
    "$bin" --db "$tmp/h.db" recommend --product "$pid" --json --city "$cname" >"$tmp/oc" 2>"$tmp/ec" &&
        check "recommend --city <hostile city>" "$tmp/oc" json
fi

# the TUI's export of the view (x, a name, Enter): a JSON file beside the database
"$bin" --db "$tmp/h.db" snapshot --product "$pid" --keys "x<Enter>" >/dev/null 2>"$tmp/ex" ||
    fail "snapshot export: $(head -c 300 "$tmp/ex")"
view=$(ls "$tmp"/recoscope-*.json 2>/dev/null | head -n 1)
if [ -n "$view" ]; then check "TUI export (x)" "$view" json
else fail "the TUI export wrote no recoscope-*.json beside the database"; fi

"$bin" --db "$tmp/h.db" serve --listen 127.0.0.1:0 --threads 1 --preload >"$tmp/so" 2>"$tmp/se" &
spid=$!
port=
i=0
while [ $i -lt 100 ] && [ -z "$port" ]; do
    port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/so" 2>/dev/null)
    [ -z "$port" ] && sleep 0.1
    i=$((i + 1))
done
if [ -z "$port" ]; then
    fail "serve never listened: $(cat "$tmp/se")"
else
    u=http://127.0.0.1:$port
    curl -s "$u/v1/recommend?product=$pid" >"$tmp/s1"; check "serve GET /v1/recommend" "$tmp/s1" json
    curl -s "$u/v1/similar?product=$pid" >"$tmp/s2"; check "serve GET /v1/similar" "$tmp/s2" json
    curl -s -d "{\"basket\":[\"$pid\",\"$pid2\"]}" "$u/v1/recommend" >"$tmp/s3"
    check "serve POST /v1/recommend" "$tmp/s3" json
    curl -s "$u/v1/recommend?product=$pid&session=s1" >"$tmp/s4"; check "serve with a session" "$tmp/s4" json
    # an error that quotes what was asked (an unknown id of DEL, CSI, RLO, a bad byte)
    curl -s "$u/v1/recommend?product=a%7Fb%C2%9Bc%E2%80%AEd%FFe" >"$tmp/s7"
    check "serve error quoting a hostile id" "$tmp/s7" json
    curl -s "$u/healthz" >"$tmp/s5"; check "serve /healthz" "$tmp/s5" json
    curl -s "$u/metrics" >"$tmp/s6"; check "serve /metrics" "$tmp/s6" text
    grep -q 'city=' "$tmp/s6" || fail "/metrics has no city label"
    kill "$spid"; wait "$spid"; spid=
fi
[ $fails -eq 0 ] || { echo "$fails failures"; exit 1; }
echo "ok"
