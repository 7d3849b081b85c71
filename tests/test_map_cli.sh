#!/usr/bin/env bash
# `recoscope map` on the screen tests' fixed world: the SVG is valid XML with the
# expected elements (a point per model row, labels, a legend entry per department, the
# hostile names escaped), the projection is cached beside the model, a broken cache is
# a warning (CLI) or a message (TUI) and is rewritten, never a crash; every refusal
# has its exit code and message.
set -u
BIN=${RS_BIN:?RS_BIN not set}
MKWORLD=${RS_MKWORLD:?RS_MKWORLD not set}
command -v python3 >/dev/null 2>&1 || { echo "python3 not installed: skipped"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0 pass=0
ok()   { pass=$((pass+1)); }
bad()  { echo "FAIL: $*" >&2; fail=$((fail+1)); }
expect_rc() { # expected-rc description command...
  local want=$1 what=$2; shift 2
  timeout 60 "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" = "$want" ]; then ok; else bad "$what: exit $rc, expected $want"; sed 's/^/  | /' "$T/err" | head -5 >&2; fi
}
expect_msg() { # file needle description
  if grep -qF -- "$2" "$1"; then ok; else bad "$3: no \"$2\" in:"; sed 's/^/  | /' "$1" | head -8 >&2; fi
}

DB=$("$MKWORLD" "$T") || { echo "cannot build the test world"; exit 1; }
MODELS="$T/world-models"

# the SVG's structure: python's XML parser, then the elements we promise
check_svg() { # file points legend-items description
  python3 - "$1" "$2" "$3" <<'PY' && ok || bad "$4: SVG structure"
import sys, xml.etree.ElementTree as ET
path, points, legend = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(path).getroot()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
assert root.get("width") == "1200" and root.get("height") == "900", root.attrib
assert root.find("s:title", ns) is not None and root.find("s:title", ns).text
def cls(c):
    return [e for e in root.iter() if e.get("class") == c]
assert len(cls("point")) == points, (len(cls("point")), points)
labels = cls("label")
assert 1 <= len(labels) <= 25, len(labels)
assert len(cls("legend-item")) == legend, len(cls("legend-item"))
text = open(path, encoding="utf-8").read()
# no control character of the data reaches the file; the ESC of "Evil ..Red.. Chips"
# and the C1 byte became U+00B7, the invalid bytes U+FFFD
assert not any(ord(ch) < 0x20 and ch not in "\n" for ch in text), "a control character"
assert not any(0x80 <= ord(ch) <= 0x9F for ch in text), "a C1 control"
for e in root.iter():
    for v in e.attrib.values():
        assert "javascript" not in v.lower()
PY
}

expect_rc 0 "map --help" "$BIN" map --help
expect_msg "$T/out" "--kind product|category" "map usage"

expect_rc 0 "map of Springfield's products" "$BIN" --db "$DB" map --city Springfield --out "$T/p.svg"
expect_msg "$T/out" "40 products of Springfield (layout" "map summary"
expect_msg "$T/err" "cached in $MODELS/product-city1.rsm.map" "layout cached"
check_svg "$T/p.svg" 40 4 "products"
[ -s "$MODELS/product-city1.rsm.map" ] && ok || bad "no cache beside the model"

# cached now: the second run does not fit again
expect_rc 0 "map again (cached)" "$BIN" --db "$DB" map --city Springfield --out "$T/p2.svg"
grep -q "computed" "$T/err" && bad "the cached layout was fitted again" || ok
cmp -s "$T/p.svg" "$T/p2.svg" && ok || bad "the cached map draws another picture"

expect_rc 0 "map of categories, PCA" "$BIN" --db "$DB" map --city Springfield --kind category \
  --method pca --labels 3 --out "$T/c.svg"
check_svg "$T/c.svg" 8 4 "categories"
expect_msg "$T/out" "8 categories of Springfield (pca" "category map summary"

# Ogdenville falls back to the all-cities model
expect_rc 0 "map of a fallback city" "$BIN" --db "$DB" map --city Ogdenville --out "$T/o.svg"
expect_msg "$T/o.svg" "(all cities' model)" "fallback marked in the SVG"

# a broken cache: a warning, the map still drawn, the cache rewritten
printf 'garbage' >"$MODELS/product-city1.rsm.map"
expect_rc 0 "map over a broken cache" "$BIN" --db "$DB" map --city Springfield --out "$T/b.svg"
expect_msg "$T/err" "not a map cache" "broken cache reported"
check_svg "$T/b.svg" 40 4 "after a broken cache"
expect_rc 0 "map after the cache was rewritten" "$BIN" --db "$DB" map --city Springfield --out "$T/b2.svg"
grep -q "not a map cache" "$T/err" && bad "the broken cache was not rewritten" || ok

# the TUI: the map view says the cache is broken and draws the map
head -c 100 "$MODELS/product-city1.rsm.map" >"$T/trunc" && cp "$T/trunc" "$MODELS/product-city1.rsm.map"
expect_rc 0 "TUI map over a broken cache" "$BIN" --db "$DB" snapshot --city Springfield --keys M
expect_msg "$T/out" "map cache" "TUI reports the broken cache"
expect_msg "$T/out" "Map: products of Springfield" "TUI map drawn anyway"

# derived categories: the world's 8 planted categories come back as 8 clusters, named
expect_rc 0 "cluster" "$BIN" --db "$DB" cluster --city Springfield
expect_msg "$T/out" "8 clusters" "silhouette picks the planted number"
expect_msg "$T/out" "bread baguette loaf" "a cluster named by its words"
expect_rc 0 "cluster --json" "$BIN" --db "$DB" cluster --k 4 --top 2 --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["k"]==4 and len(d["clusters"])==4 and all(c["derived"] and len(c["top"])<=2 for c in d["clusters"]), d' "$T/out" \
  && ok || bad "cluster --json shape"
expect_rc 1 "cluster --k too many" "$BIN" --db "$DB" cluster --k 30
expect_msg "$T/err" "at most 20 clusters" "too many clusters named"
expect_rc 1 "cluster --k junk" "$BIN" --db "$DB" cluster --k many

# refusals
expect_rc 1 "unknown kind" "$BIN" --db "$DB" map --kind brand --out "$T/x.svg"
expect_msg "$T/err" "--kind" "unknown kind message"
expect_rc 1 "no --out" "$BIN" --db "$DB" map --city Springfield
expect_msg "$T/err" "--out FILE.svg is required" "missing --out message"
expect_rc 1 "--out -" "$BIN" --db "$DB" map --out -
expect_rc 1 "unknown city" "$BIN" --db "$DB" map --city Atlantis --out "$T/x.svg"
mkfifo "$T/fifo.svg"
expect_rc 1 "--out a FIFO" "$BIN" --db "$DB" map --city Springfield --out "$T/fifo.svg"
expect_msg "$T/err" "fifo.svg" "FIFO named"
mkdir "$T/dir.svg"
expect_rc 1 "--out a directory" "$BIN" --db "$DB" map --city Springfield --out "$T/dir.svg"
# a database without models
printf 'product_id,name,category\np1,A,X\np2,B,X\n' >"$T/products.csv"
printf 'receipt_id,product_id\nr1,p1\nr1,p2\n' >"$T/receipts.csv"
expect_rc 0 "import a tiny world" "$BIN" --db "$T/tiny.db" import --products "$T/products.csv" "$T/receipts.csv"
expect_rc 1 "map without a model" "$BIN" --db "$T/tiny.db" map --out "$T/x.svg"
expect_msg "$T/err" "no active product model" "no model message"
expect_rc 1 "cluster without a model" "$BIN" --db "$T/tiny.db" cluster
expect_msg "$T/err" "no active product model" "cluster: no model message"
[ -e "$T/x.svg" ] && bad "an SVG was written without a model" || ok

# a catalogue without categories (every product "(none)"): the map groups the products
# by derived clusters and says so (SVG legend, TUI legend); vectors from word2vec
printf 'product_id,name,category\n' >"$T/flat.csv"
printf 'receipt_id,product_id\n' >"$T/flat_r.csv"
printf '24 3\n' >"$T/flat.vec"
for i in $(seq 1 24); do
  g=$((i % 3))
  case $g in 0) w="red candle";; 1) w="blue mug";; 2) w="green bag";; esac
  printf 'f%d,%s %d,(none)\n' "$i" "$w" "$i" >>"$T/flat.csv"
  printf 'r%d,f%d\nr%d,f%d\n' "$i" "$i" "$i" $(( (i % 24) + 1 )) >>"$T/flat_r.csv"
  case $g in
    0) printf 'f%d 1 0.%d 0.1\n' "$i" "$i" ;;
    1) printf 'f%d 0.1 1 0.%d\n' "$i" "$i" ;;
    2) printf 'f%d 0.%d 0.1 1\n' "$i" "$i" ;;
  esac >>"$T/flat.vec"
done
expect_rc 0 "import a flat catalogue" "$BIN" --db "$T/flat.db" import --products "$T/flat.csv" "$T/flat_r.csv"
expect_rc 0 "import its vectors" "$BIN" --db "$T/flat.db" import-model "$T/flat.vec" --format word2vec
expect_rc 0 "map of a flat catalogue" "$BIN" --db "$T/flat.db" map --out "$T/flat.svg" --method pca
expect_msg "$T/out" "groups: clusters (derived)" "derived groups reported"
expect_msg "$T/flat.svg" "Clusters (derived from the model)" "derived groups in the SVG legend"
expect_rc 0 "TUI map of a flat catalogue" "$BIN" --db "$T/flat.db" snapshot --keys Mp
expect_msg "$T/out" "clusters (derived):" "derived groups in the TUI legend"
expect_msg "$T/out" "candle red" "a derived group named by its words"

# compare with the previous model of the city: a second import is the active one
awk 'NR == 1 { print; next } { printf "%s %s %s %.2f\n", $1, $2, $3, $4 + 0.7 * (NR % 2) }' \
  "$T/flat.vec" >"$T/flat2.vec"
expect_rc 0 "import second vectors" "$BIN" --db "$T/flat.db" import-model "$T/flat2.vec" --format word2vec
expect_rc 0 "TUI compare with the previous model" "$BIN" --db "$T/flat.db" snapshot --product f1 --keys "[[[[[[[[}}Cp"
expect_msg "$T/out" "the model vs the previous" "compare title"
expect_msg "$T/out" "previous product #1" "the previous model answers the right column"
expect_msg "$T/out" "default: product #2" "the active model answers the left column"
expect_msg "$T/out" "2 blue mug 19              0.996     2 blue mug 13" "the two models' lists"

# derived categories stored (schema 3): apply, a re-import keeps them, undo restores
q() { sqlite3 "$T/flat.db" "$1"; }
expect_rc 0 "cluster --apply" "$BIN" --db "$T/flat.db" cluster --k 3 --apply
expect_msg "$T/out" "applied: derivation #1, 24 products in 3 derived categories" "apply summary"
expect_rc 0 "stats after apply" "$BIN" --db "$T/flat.db" stats
expect_msg "$T/out" "(3 derived)" "stats counts the derived categories"
[ "$(q "SELECT count(*) FROM products p JOIN categories c ON c.id = p.category_id WHERE c.derived")" = 24 ] && ok || bad "products not in derived categories"
[ "$(q "SELECT count(DISTINCT category_id) FROM products WHERE name LIKE 'red candle%'")" = 1 ] && ok || bad "a planted group split over clusters"
sed 's/^f1,\(.*\),(none)$/f1,\1,lamps/' "$T/flat.csv" >"$T/flat_b.csv"
expect_rc 0 "re-import with a new catalogue category" "$BIN" --db "$T/flat.db" import --products "$T/flat_b.csv"
[ "$(q "SELECT c.derived FROM products p JOIN categories c ON c.id = p.category_id WHERE p.ext_id = 'f1'")" = 1 ] && ok || bad "re-import moved a product out of its derived category"
[ "$(q "SELECT c.name FROM products p JOIN categories c ON c.id = p.source_category_id WHERE p.ext_id = 'f1'")" = lamps ] && ok || bad "re-import did not update the catalogue category"
expect_rc 0 "cluster --undo" "$BIN" --db "$T/flat.db" cluster --undo
expect_msg "$T/out" "24 products are back" "undo summary"
[ "$(q "SELECT c.name FROM products p JOIN categories c ON c.id = p.category_id WHERE p.ext_id = 'f1'")" = lamps ] && ok || bad "undo: f1 not in its new catalogue category"
[ "$(q "SELECT count(*) FROM categories WHERE derived")" = 0 ] && ok || bad "undo left derived categories"
expect_rc 1 "a second undo" "$BIN" --db "$T/flat.db" cluster --undo
expect_msg "$T/err" "no derived categories to undo" "second undo message"
expect_rc 1 "--apply with --undo" "$BIN" --db "$T/flat.db" cluster --apply --undo

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
