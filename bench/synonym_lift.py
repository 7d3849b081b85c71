#!/usr/bin/python3
"""The synonyms of the most popular products against co-purchase (issue 12 item 4):
for the N (300) most popular products of the database, the top 5 synonyms that
`recoscope recommend --batch` serves with its defaults, and for each pair
lift = R * co(p, s) / (pop(p) * pop(s)) over the database's receipts (R receipts,
co = receipts holding both, pop = receipts holding one).  Substitutes are rarely
bought together (lift below 1); complements mistaken for synonyms show lift 3+.
Prints the median lift, the share of pairs with lift > 2, and a few named products.

usage: bench/synonym_lift.py RECOSCOPE DB [N]
Standard library only (sqlite3 module)."""
import json, sqlite3, statistics, subprocess, sys
from collections import defaultdict

NAMED = ["Banana", "Avocado", "Limes", "Organic Whole Milk", "Spaghetti", "Sparkling Water"]

def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, db = sys.argv[1], sys.argv[2]
    top_n = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    ext = dict(con.execute("SELECT id, ext_id FROM products"))
    name = dict(con.execute("SELECT ext_id, name FROM products"))
    baskets = defaultdict(set)
    for r, p in con.execute("SELECT receipt_id, product_id FROM receipt_items"):
        baskets[r].add(ext[p])
    R = len(baskets)
    pop = defaultdict(int)
    holding = defaultdict(set)
    for r, items in baskets.items():
        for p in items:
            pop[p] += 1
            holding[p].add(r)
    top = sorted(pop, key=lambda p: (-pop[p], p))[:top_n]
    by_name = {v: k for k, v in name.items()}
    named = [by_name[n] for n in NAMED if n in by_name and by_name[n] not in top]
    queries = top + named
    inp = "".join(json.dumps([p]) + "\n" for p in queries)
    res = subprocess.run([binary, "--db", db, "recommend", "--batch", "-"], input=inp,
                         capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"recommend --batch failed rc={res.returncode}: {res.stderr[-500:]}")
    lines = res.stdout.splitlines()
    lifts, shown = [], {}
    for q, ln in zip(queries, lines):
        syn = [str(x["id"]) for x in json.loads(ln).get("synonyms", [])][:5]
        row = []
        for s in syn:
            co = len(holding[q] & holding[s])
            lift = R * co / (pop[q] * pop[s]) if pop[q] and pop[s] else 0.0
            row.append((s, lift))
            if q in top:
                lifts.append(lift)
        if name.get(q) in NAMED:
            shown[name[q]] = row
    if not lifts:
        sys.exit("no synonyms served")
    above = sum(1 for x in lifts if x > 2) / len(lifts)
    print(f"top {top_n} products, {len(lifts)} synonym rows: median lift {statistics.median(lifts):.3f},"
          f" mean {statistics.mean(lifts):.3f}, share with lift > 2: {above:.3f}")
    for n in NAMED:
        if n in shown:
            print(f"  {n}: " + "; ".join(f"{name.get(s, s)} ({l:.2f})" for s, l in shown[n]))

if __name__ == "__main__":
    main()
