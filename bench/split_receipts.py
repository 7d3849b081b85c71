#!/usr/bin/python3
"""Splits a receipts CSV as shared/tools/basket_eval.py and DESIGN §4 do: a receipt
is held out iff FNV-1a-64(its id as UTF-8) % 5 == 0.

usage: bench/split_receipts.py IN.csv ID_COLUMN PRODUCT_COLUMN TRAIN.csv HELDOUT.csv
  TRAIN.csv    the lines of the other receipts, header and columns as IN.csv
  HELDOUT.csv  basket_id,product_id of the held-out receipts, grouped by receipt
Standard library only."""
import csv, sys
from collections import OrderedDict

def fnv1a64(s):
    h = 0xcbf29ce484222325
    for c in s.encode("utf-8"):
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h

def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    src, idc, pc, train, held = sys.argv[1:]
    out = OrderedDict()
    kept = n = 0
    with open(src, newline="") as f, open(train, "w", newline="") as t:
        r = csv.reader(f)
        head = next(r)
        ii, pi = head.index(idc), head.index(pc)
        w = csv.writer(t, lineterminator="\n")
        w.writerow(head)
        for row in r:
            n += 1
            if fnv1a64(row[ii]) % 5 == 0:
                out.setdefault(row[ii], []).append(row[pi])
            else:
                w.writerow(row)
                kept += 1
    with open(held, "w", newline="") as h:
        w = csv.writer(h, lineterminator="\n")
        w.writerow(["basket_id", "product_id"])
        for b, items in out.items():
            for p in items:
                w.writerow([b, p])
    print(f"split: {n} lines, {kept} training, {n - kept} held out in {len(out)} receipts")

if __name__ == "__main__":
    main()
