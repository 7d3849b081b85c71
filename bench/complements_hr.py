#!/usr/bin/python3
"""HR@10 of the `complements` (and, on the same queries, `completion`) lists of
`recoscope recommend --batch` on held-out items whose category differs from the
category of every context item (issue 4: complements recommend OTHER categories, so
this is the subset where they can hit).

Queries follow DESIGN §4: a basket is held out iff FNV-1a-64(basket id) % 5 == 0; its
distinct items seen in the other baskets; baskets with >= 2 of them; each item in turn
is the target and the rest the context.  Only targets whose category is not a context
item's category are kept.

usage: bench/complements_hr.py BASKETS.csv PRODUCTS.csv 'RECOMMEND --batch COMMAND'
  BASKETS.csv   basket_id,product_id (bench/instacart_baskets.py writes it)
  PRODUCTS.csv  a catalogue with product_id and a category column (aisle_id for
                Instacart, else 'category')
Run with Debian's python3 (standard library only).
"""
import csv, json, subprocess, sys, time
from collections import defaultdict

K = 10

def fnv1a64(s):
    h = 0xcbf29ce484222325
    for c in s.encode("utf-8"):
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h

def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    baskets = defaultdict(list)
    with open(sys.argv[1], newline="") as f:
        r = csv.reader(f)
        head = next(r)
        bi, pi = head.index("basket_id"), head.index("product_id")
        for row in r:
            baskets[row[bi]].append(row[pi])
    cat = {}
    with open(sys.argv[2], newline="") as f:
        r = csv.reader(f)
        head = next(r)
        pi = head.index("product_id")
        ci = head.index("aisle_id") if "aisle_id" in head else head.index("category")
        for row in r:
            cat[row[pi]] = row[ci]
    train_items = set()
    test = []
    for b, items in baskets.items():
        if fnv1a64(b) % 5 == 0:
            test.append(items)
        else:
            train_items.update(items)
    queries = []
    for items in test:
        seen = []
        for it in items:
            if it in train_items and it not in seen:
                seen.append(it)
        if len(seen) < 2:
            continue
        for t in seen:
            ctx = [x for x in seen if x != t]
            if cat.get(t) not in {cat.get(x) for x in ctx}:
                queries.append((ctx, t))
    inp = "".join(json.dumps(c) + "\n" for c, _ in queries)
    t0 = time.perf_counter()
    res = subprocess.run(sys.argv[3], shell=True, input=inp, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        sys.exit(f"command failed rc={res.returncode}: {res.stderr[-500:]}")
    lines = res.stdout.splitlines()
    if len(lines) != len(queries):
        sys.exit(f"{len(lines)} answers for {len(queries)} queries")
    hits = defaultdict(int)
    for (ctx, t), ln in zip(queries, lines):
        o = json.loads(ln)
        for kind in ("complements", "completion"):
            ids = [str(x["id"]) for x in o.get(kind, [])][:K]
            hits[kind] += t in ids
    n = len(queries)
    print(f"queries with a target outside the context's categories: {n} "
          f"(of {len(test)} held-out baskets); wall {dt:.1f} s")
    for kind in ("complements", "completion"):
        print(f"{kind}: HR@{K} = {hits[kind] / n:.4f}")

if __name__ == "__main__":
    main()
