"""UCI Online Retail -> sessions + catalog for the trainer and `edgerec build`.

Invoices are sessions (items in invoice-line order, repeats dropped);
cancellations (invoice numbers starting with C), non-product codes (postage,
fees, manual adjustments) and non-positive quantities or prices are dropped.
The last month of invoices is held out as the test split.

Writes into OUT: train_sessions.txt, test_sessions.txt (one session per line,
space-separated stock codes) and catalog.jsonl (id, title, price, category).
"""
import argparse
import gzip
import json
import os
import re
from collections import Counter, defaultdict

import pandas as pd

NON_PRODUCTS = {"POST", "DOT", "M", "D", "C2", "CRUK", "BANK CHARGES", "AMAZONFEE", "PADS", "S", "B", "m"}
TEST_FROM = "2011-11-09"

# Online Retail has no categories: derive one from the product noun, the last
# meaningful word of the description ("WHITE HANGING HEART T-LIGHT HOLDER" ->
# "holder"), folding a few plurals. Coarse, but stable and explainable.
STOP_WORDS = {"OF", "AND", "THE", "IN", "WITH", "SET", "DESIGN", "ASSORTED", "COLOUR", "COLOURS", "SMALL", "LARGE", "MINI", "JUMBO",
              "PINK", "BLUE", "RED", "GREEN", "WHITE", "BLACK", "IVORY", "CREAM", "GOLD", "SILVER", "PURPLE", "ORANGE",
              "YELLOW", "RETROSPOT", "POLKADOT", "DOT", "SPOT", "SPOTTY", "STRIPE", "VINTAGE", "FLORAL", "WOODEN"}


def category_of(title: str) -> str:
    words = [w for w in re.split(r"[^A-Z]+", title.upper()) if len(w) > 2 and w not in STOP_WORDS]
    if not words:
        return "other"
    noun = words[-1]
    if noun.endswith("S") and len(noun) > 4 and not noun.endswith("SS"):
        noun = noun[:-1]
    return noun.lower()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="../shared/data/online-retail/online_retail.csv.gz")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    with gzip.open(a.csv, "rt", encoding="utf-8", errors="replace") as f:
        df = pd.read_csv(f, dtype={"InvoiceNo": str, "StockCode": str, "Description": str})
    df = df[~df.InvoiceNo.str.startswith("C")]
    df = df[(df.Quantity > 0) & (df.UnitPrice > 0) & ~df.StockCode.isin(NON_PRODUCTS)]
    df = df.dropna(subset=["Description"])
    df["StockCode"] = df.StockCode.str.strip().str.upper()
    df["InvoiceDate"] = pd.to_datetime(df.InvoiceDate)

    sessions = {"train": [], "test": []}
    for _, g in df.groupby("InvoiceNo", sort=False):
        seen, items = set(), []
        for code in g.StockCode:
            if code not in seen:
                seen.add(code)
                items.append(code)
        split = "test" if g.InvoiceDate.iloc[0] >= pd.Timestamp(TEST_FROM) else "train"
        sessions[split].append(items)
    for split, rows in sessions.items():
        with open(os.path.join(a.out, f"{split}_sessions.txt"), "w") as f:
            f.writelines(" ".join(s) + "\n" for s in rows)

    titles = defaultdict(Counter)
    for code, desc in zip(df.StockCode, df.Description):
        titles[code][desc.strip()] += 1
    prices = df.groupby("StockCode").UnitPrice.median()
    with open(os.path.join(a.out, "catalog.jsonl"), "w") as f:
        for code in sorted(titles):
            title = titles[code].most_common(1)[0][0]
            f.write(json.dumps({"id": code, "title": title.title(), "price": round(float(prices[code]), 2),
                                "category": category_of(title)}) + "\n")
    print(f"{len(sessions['train'])} train / {len(sessions['test'])} test invoices, {len(titles)} products -> {a.out}")


if __name__ == "__main__":
    main()
