#!/usr/bin/python3
"""Writes the canonical baskets CSV (basket_id,product_id) that
../shared/tools/basket_eval.py and bench/score_inout.py read, from the Instacart
order_products__*.csv files of a directory.

usage: bench/instacart_baskets.py INSTACART_DIR OUT.csv
"""
import csv, glob, os, sys

def main():
    if len(sys.argv) != 3:
        sys.exit("usage: instacart_baskets.py INSTACART_DIR OUT.csv")
    src = sorted(glob.glob(os.path.join(sys.argv[1], "order_products__*.csv")))
    if not src:
        sys.exit(f"{sys.argv[1]}: no order_products__*.csv")
    n = 0
    with open(sys.argv[2], "w", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["basket_id", "product_id"])
        for path in src:
            with open(path, newline="") as f:
                r = csv.reader(f)
                head = next(r)
                oi, pi = head.index("order_id"), head.index("product_id")
                for row in r:
                    w.writerow([row[oi], row[pi]])
                    n += 1
    print(f"{sys.argv[2]}: {n} rows from {len(src)} file(s)", file=sys.stderr)

if __name__ == "__main__":
    main()
