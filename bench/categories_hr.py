#!/usr/bin/python3
"""HR@10 and NDCG@10 of the `categories` list of `recoscope recommend --batch` (the
Categories pane) on the held-out protocol of DESIGN §4 applied to category baskets,
beside category popularity and category item-item computed here on the same queries.

Category baskets: each basket mapped to its distinct categories.  A basket is held out
iff FNV-1a-64(basket id) % 5 == 0; its distinct categories seen in the other baskets;
baskets with >= 2 of them; each category in turn is the target and the others the
context.  The query sent to the command is the basket's products outside the target
category (so the pane's query categories are exactly the context); the command's
`categories` ids must be category external ids.

usage: bench/categories_hr.py BASKETS.csv PRODUCTS.csv [--aisles AISLES.csv] 'COMMAND'
  BASKETS.csv   basket_id (or receipt_id),product_id: bench/instacart_baskets.py writes
                it for Instacart; a synthetic world's receipts.csv works as it is
  PRODUCTS.csv  product_id and a category column (aisle_id for Instacart, else category)
  --aisles      Instacart: aisles.csv, to map aisle_id to the aisle name (the category's
                external id after `import --preset instacart`)
Run with Debian's python3 (standard library only).
"""
import csv, json, math, subprocess, sys, time
from collections import Counter, defaultdict

K = 10

def fnv1a64(s):
    h = 0xcbf29ce484222325
    for c in s.encode("utf-8"):
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h

def read_csv(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        head = next(r)
        return head, list(r)

def score(ranked, queries):
    hr = ndcg = 0.0
    for lst, (_, t) in zip(ranked, queries):
        lst = lst[:K]
        if t in lst:
            hr += 1
            ndcg += 1 / math.log2(lst.index(t) + 2)
    n = len(queries)
    return hr / n, ndcg / n

def main():
    args = sys.argv[1:]
    aisles = None
    if "--aisles" in args:
        i = args.index("--aisles")
        aisles = args[i + 1]
        del args[i:i + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    head, rows = read_csv(args[0])
    bi = head.index("basket_id") if "basket_id" in head else head.index("receipt_id")
    pi = head.index("product_id")
    baskets = defaultdict(list)
    for row in rows:
        baskets[row[bi]].append(row[pi])
    head, rows = read_csv(args[1])
    pi = head.index("product_id")
    ci = head.index("aisle_id") if "aisle_id" in head else head.index("category")
    cat = {row[pi]: row[ci] for row in rows}
    if aisles:
        head, rows = read_csv(aisles)
        ai, an = head.index("aisle_id"), head.index("aisle")
        name = {row[ai]: row[an] for row in rows}
        cat = {p: name.get(c, c) for p, c in cat.items()}
    train, test = [], []
    for b, items in sorted(baskets.items()):
        cs = list(dict.fromkeys(cat[p] for p in items if p in cat))
        (test if fnv1a64(b) % 5 == 0 else train).append((items, cs))
    known = set(c for _, cs in train for c in cs)
    pop = Counter(c for _, cs in train for c in cs)
    co = defaultdict(Counter)
    for _, cs in train:
        for a in cs:
            for b in cs:
                if a != b:
                    co[a][b] += 1
    queries, lines = [], []
    for items, cs in test:
        cs = [c for c in cs if c in known]
        if len(cs) < 2:
            continue
        for t in cs:
            ctx = [c for c in cs if c != t]
            prods = list(dict.fromkeys(p for p in items if cat.get(p) in ctx))
            queries.append((ctx, t))
            lines.append(json.dumps(prods) + "\n")
    by_pop = [c for c, _ in pop.most_common()]
    pop_lists = [[c for c in by_pop if c not in ctx][:K] for ctx, _ in queries]
    ii_lists = []
    for ctx, _ in queries:
        s = Counter()
        for a in ctx:
            for b, n in co[a].items():
                s[b] += n / math.sqrt(pop[a] * pop[b])
        ii_lists.append([c for c, _ in sorted(s.items(), key=lambda x: (-x[1], x[0]))
                         if c not in ctx][:K])
    t0 = time.perf_counter()
    res = subprocess.run(args[2], shell=True, input="".join(lines), capture_output=True,
                         text=True)
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        sys.exit(f"command failed rc={res.returncode}: {res.stderr[-500:]}")
    out = res.stdout.splitlines()
    if len(out) != len(queries):
        sys.exit(f"{len(out)} answers for {len(queries)} queries")
    served = [[str(x["id"]) for x in json.loads(ln).get("categories", [])] for ln in out]
    print(f"category baskets: {len(train)} training, {len(test)} held out, "
          f"{len(queries)} queries; command wall {dt:.1f} s")
    for name, lists in (("category popularity", pop_lists),
                        ("category item-item cosine", ii_lists),
                        ("served categories (recommend --batch)", served)):
        hr, nd = score(lists, queries)
        print(f"{name:40s} HR@{K} {hr:.4f}  NDCG@{K} {nd:.4f}")

if __name__ == "__main__":
    main()
