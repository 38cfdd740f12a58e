"""UCI Online Retail written as the Shopify admin would export that shop:
a products CSV (one product a stock code, its one variant's SKU the code) and
an orders CSV (one row a line item, the order's fields on its first row only,
`Created at` in the shop's Europe/London time with the offset moving between
+0000 and +0100 at daylight saving).

Invoices starting with C are credit notes, not orders (Shopify shows a refund
on the original order instead), and lines with negative quantities or prices
are stock adjustments: both are left out. Postage, fees and other
non-products stay in the orders as custom line items without a SKU, as a
Shopify order's custom items are, and are not in the products file.

  python training/stores/online_retail_shopify.py --csv online_retail.csv.gz --out DIR [--months N]
"""
import argparse
import csv
import gzip
import os
import sys
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from retail_catalog import is_product, product_types, title_case  # noqa: E402

LONDON = ZoneInfo("Europe/London")
ORDER_HEADER = ["Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
                "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code",
                "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity", "Lineitem name",
                "Lineitem price", "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping",
                "Lineitem taxable", "Lineitem fulfillment status", "Billing Name", "Billing Country", "Notes",
                "Cancelled at", "Payment Method", "Refunded Amount", "Vendor", "Id", "Tags", "Source",
                "Lineitem discount"]
PRODUCT_HEADER = ["Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
                  "Option1 Name", "Option1 Value", "Variant SKU", "Variant Grams", "Variant Inventory Tracker",
                  "Variant Inventory Qty", "Variant Inventory Policy", "Variant Fulfillment Service",
                  "Variant Price", "Variant Compare At Price", "Variant Requires Shipping", "Variant Taxable",
                  "Variant Barcode", "Image Src", "Image Position", "Image Alt Text", "Gift Card", "Status"]


def shopify_time(ts):
    return ts.tz_localize(LONDON, ambiguous=False, nonexistent="shift_forward").strftime("%Y-%m-%d %H:%M:%S %z")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--months", type=int, default=0, help="only the last N months (a smaller store)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    with gzip.open(a.csv, "rt", encoding="utf-8", errors="replace") as f:
        df = pd.read_csv(f, dtype={"InvoiceNo": str, "StockCode": str, "Description": str, "CustomerID": str})
    # Credit notes and stock adjustments (negative quantities or prices) are not Shopify orders.
    df = df[~df.InvoiceNo.str.startswith("C") & (df.Quantity > 0) & (df.UnitPrice >= 0)].dropna(subset=["Description"])
    df["InvoiceDate"] = pd.to_datetime(df.InvoiceDate)
    if a.months:
        df = df[df.InvoiceDate >= df.InvoiceDate.max() - pd.DateOffset(months=a.months)]
    df["StockCode"] = df.StockCode.str.strip().str.upper()
    good = df[(df.Quantity > 0) & (df.UnitPrice > 0)]
    titles = defaultdict(Counter)
    for code, desc in zip(good.StockCode, good.Description):
        titles[code][desc.strip()] += 1
    titles = {c: t.most_common(1)[0][0] for c, t in titles.items()}
    products = {c: t for c, t in titles.items() if is_product(c, t)}
    types = product_types(products)
    prices = good.groupby("StockCode").UnitPrice.median()

    with open(os.path.join(a.out, "products_export.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(PRODUCT_HEADER)
        for code in sorted(products):
            title = title_case(products[code])
            row = dict.fromkeys(PRODUCT_HEADER, "")
            row.update({"Handle": code.lower(), "Title": title, "Body (HTML)": f"<p>{title}</p>",
                        "Vendor": "Online Retail", "Type": types[code], "Published": "TRUE",
                        "Option1 Name": "Title", "Option1 Value": "Default Title", "Variant SKU": code,
                        "Variant Grams": "0", "Variant Inventory Policy": "deny",
                        "Variant Fulfillment Service": "manual", "Variant Price": f"{prices[code]:.2f}",
                        "Variant Requires Shipping": "TRUE", "Variant Taxable": "TRUE", "Gift Card": "FALSE",
                        "Status": "active"})
            w.writerow([row[h] for h in PRODUCT_HEADER])

    orders = 0
    with open(os.path.join(a.out, "orders_export.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(ORDER_HEADER)
        for invoice, g in df.groupby("InvoiceNo", sort=False):
            orders += 1
            created = shopify_time(g.InvoiceDate.iloc[0])
            total = float((g.Quantity * g.UnitPrice).sum())
            for i, r in enumerate(g.itertuples()):
                row = dict.fromkeys(ORDER_HEADER, "")
                if i == 0:
                    row.update({"Email": f"customer{r.CustomerID.removesuffix('.0')}@example.com" if isinstance(r.CustomerID, str) else "",
                                "Financial Status": "paid", "Paid at": created, "Fulfillment Status": "fulfilled",
                                "Currency": "GBP", "Subtotal": f"{total:.2f}", "Shipping": "0.00", "Taxes": "0.00",
                                "Total": f"{total:.2f}", "Created at": created, "Billing Country": r.Country,
                                "Id": str(4000000000 + orders), "Source": "web"})
                code = r.StockCode
                row.update({"Name": f"#{invoice}", "Lineitem quantity": str(r.Quantity),
                            "Lineitem name": title_case(r.Description.strip()), "Lineitem price": f"{r.UnitPrice:.2f}",
                            "Lineitem sku": code if code in products else "", "Lineitem requires shipping": "true",
                            "Lineitem taxable": "true", "Lineitem fulfillment status": "fulfilled",
                            "Vendor": "Online Retail" if code in products else ""})
                w.writerow([row[h] for h in ORDER_HEADER])
    print(f"{len(products)} products, {orders} orders, {len(df)} line items -> {a.out}")


if __name__ == "__main__":
    main()
