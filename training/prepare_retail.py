"""UCI Online Retail -> sessions + catalog for the trainer and `edgerec build`.

Invoices are sessions (items in invoice-line order, repeats dropped);
cancellations (invoice numbers starting with C), non-products (postage,
carriage, fees, manual adjustments, samples, gift vouchers) and non-positive
quantities or prices are dropped. The last month of invoices is held out as
the test split. Titles are cased as a shop writes them, each item gets a
product type and a list price (training/retail_catalog.py).

Writes into OUT: train_sessions.txt, test_sessions.txt (one session per line,
space-separated stock codes) and catalog.jsonl (id, title, price, category).
"""
import argparse
import gzip
import json
import os
from collections import Counter, defaultdict

import pandas as pd

from retail_catalog import is_product, list_prices, product_types, title_case

TEST_FROM = "2011-11-09"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="../shared/data/online-retail/online_retail.csv.gz")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    with gzip.open(a.csv, "rt", encoding="utf-8", errors="replace") as f:
        df = pd.read_csv(f, dtype={"InvoiceNo": str, "StockCode": str, "Description": str})
    df = df[~df.InvoiceNo.str.startswith("C")]
    df = df[(df.Quantity > 0) & (df.UnitPrice > 0)].dropna(subset=["Description"])
    df["StockCode"] = df.StockCode.str.strip().str.upper()
    titles = defaultdict(Counter)
    for code, desc in zip(df.StockCode, df.Description):
        titles[code][desc.strip()] += 1
    titles = {code: c.most_common(1)[0][0] for code, c in titles.items()}
    titles = {code: t for code, t in titles.items() if is_product(code, t)}
    df = df[df.StockCode.isin(titles)].copy()
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

    prices, ratio = list_prices(df)
    types = product_types(titles)
    with open(os.path.join(a.out, "catalog.jsonl"), "w") as f:
        for code in sorted(titles):
            f.write(json.dumps({"id": code, "title": title_case(titles[code]), "price": round(float(prices[code]), 2),
                                "category": types[code]}) + "\n")
    print(f"{len(sessions['train'])} train / {len(sessions['test'])} test invoices, {len(titles)} products -> {a.out}"
          f" (no-account prices {ratio:.2f}x account prices)")


if __name__ == "__main__":
    main()
