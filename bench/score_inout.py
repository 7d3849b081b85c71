#!/usr/bin/python3
"""Scores an SGNS model on basket completion by input.output, exactly as DESIGN §4.

usage: bench/score_inout.py BASKETS.csv IN.w2v OUT.w2v [--k 10] [--max-queries N]

BASKETS.csv: columns basket_id,product_id (bench/instacart_baskets.py writes one).
IN/OUT: word2vec text or binary files of the input and output vectors with the same
words (`recoscope export --matrix in|out`), words = external product ids.
Split: a basket is held out iff FNV-1a-64(basket_id, UTF-8) % 5 == 0.  Queries: for each
held-out basket, its distinct products known to the training split; baskets with >= 2;
each product in turn is the target, the others are the context; candidates exclude the
context.  Score of a candidate: sum of the context's input vectors . its output vector
(context products missing from the model are ignored; products missing from the model
can never be recommended).  Prints HR@k and NDCG@k (1/log2(rank+2), rank from 0).
"""
import argparse, csv, math, sys
from collections import defaultdict
import numpy as np

def fnv1a64(s):
    h = 0xcbf29ce484222325
    for c in s.encode("utf-8"):
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h

def load_baskets(path):
    b = defaultdict(list)
    with open(path, newline="") as f:
        r = csv.reader(f)
        head = next(r)
        bi, pi = head.index("basket_id"), head.index("product_id")
        for row in r:
            b[row[bi]].append(row[pi])
    return [(k, list(dict.fromkeys(v))) for k, v in sorted(b.items())]

def read_w2v(path):
    with open(path, "rb") as f:
        n, d = (int(x) for x in f.readline().split())
        rest = f.read()
    words, mat = [], np.empty((n, d), dtype=np.float32)
    try:
        lines = rest.decode("utf-8").rstrip("\n").split("\n")
        if len(lines) == n and len(lines[0].rstrip().split(" ")) == d + 1:
            for i, ln in enumerate(lines):
                p = ln.rstrip().split(" ")
                words.append(p[0])
                mat[i] = [float(x) for x in p[1:]]
            return words, mat
    except UnicodeDecodeError:
        pass
    pos = 0
    for i in range(n):
        sp = rest.index(b" ", pos)
        words.append(rest[pos:sp].decode("utf-8").strip())
        pos = sp + 1
        mat[i] = np.frombuffer(rest, dtype="<f4", count=d, offset=pos)
        pos += 4 * d
        if rest[pos:pos + 1] == b"\n":
            pos += 1
    return words, mat

def queries_of(baskets, max_queries=0):
    """The held-out queries (context, target) of DESIGN §4, in basket order."""
    test = [v for k, v in baskets if fnv1a64(k) % 5 == 0]
    known = {x for k, v in baskets if fnv1a64(k) % 5 != 0 for x in v}
    qs = []
    for basket in test:
        items = [x for x in basket if x in known]
        if len(items) < 2:
            continue
        for i, t in enumerate(items):
            qs.append((items[:i] + items[i + 1:], t))
            if max_queries and len(qs) >= max_queries:
                return qs
    return qs

def evaluate(qs, words, IN, OUT, K=10):
    """(HR@K, NDCG@K) of sum(IN[context]) . OUT over the queries."""
    idx = {w: i for i, w in enumerate(words)}
    hits = ndcg = 0.0
    B = 512
    for s in range(0, len(qs), B):
        chunk = qs[s:s + B]
        ctx = np.zeros((len(chunk), IN.shape[1]), dtype=np.float32)
        rows_of = []
        for j, (c, _) in enumerate(chunk):
            rows = [idx[q] for q in c if q in idx]
            rows_of.append(rows)
            if rows:
                ctx[j] = IN[rows].sum(axis=0)
        S = ctx @ OUT.T
        for j, (c, t) in enumerate(chunk):
            rows = rows_of[j]
            if t not in idx or not rows:
                continue
            row = S[j]
            row[rows] = -np.inf
            ts = row[idx[t]]
            rank = int(np.sum(row > ts))  # ties go to the target's favour
            if rank < K:
                hits += 1
                ndcg += 1.0 / math.log2(rank + 2)
    n = max(len(qs), 1)
    return hits / n, ndcg / n

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("baskets")
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--max-queries", type=int, default=0,
                    help="score only the first N queries (large worlds)")
    a = ap.parse_args()
    qs = queries_of(load_baskets(a.baskets), a.max_queries)
    wi, IN = read_w2v(a.inp)
    wo, OUT = read_w2v(a.out)
    if wi != wo:
        sys.exit("input and output files list different words")
    hr, nd = evaluate(qs, wi, IN, OUT, a.k)
    print(f"queries={len(qs)} HR@{a.k}={hr:.4f} NDCG@{a.k}={nd:.4f}")

if __name__ == "__main__":
    main()
