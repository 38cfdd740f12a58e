"""Shopify's admin exports: the products CSV and the orders CSV.

Products (help.shopify.com, "Using CSV files to import and export products"):
a product's variants are rows under one handle, product fields (title,
description, vendor, type) only on its first row; rows with only an image
are images. Two header dialects: the admin export's `Handle` / `Variant SKU` /
`Variant Price` and the 2024+ template's `URL handle` / `SKU` / `Price`; market
(`Price / United States`) and metafield columns are ignored. A product is one
catalog item (its handle), its variants' SKUs aliases: recommending size M
beside size L of the same shirt helps no one.

Orders ("Exporting orders"): one row per line item, the order's own fields
(`Created at`, `Currency`, `Cancelled at`, `Financial Status`) only on its
first row, every row carrying the order's `Name` (#1001). Times carry the
shop's UTC offset, which moves with daylight saving."""
import html as html_lib
import re

from edgerec_train import values
from edgerec_train.canonical import Product, clean_id
from edgerec_train.formats.columns import Columns
from edgerec_train.located import Table

PRODUCT_ROLES = {
    "handle": ["Handle", "URL handle"],
    "title": ["Title"],
    "body": ["Body (HTML)", "Description"],
    "vendor": ["Vendor"],
    "category": ["Product Category", "Product category"],
    "type": ["Type"],
    "status": ["Status"],
    "sku": ["Variant SKU", "SKU"],
    "variant_id": ["Variant ID"],
    "barcode": ["Variant Barcode", "Barcode"],
    "price": ["Variant Price", "Price"],
    "compare": ["Variant Compare At Price", "Compare-at price", "Compare At Price"],
    "qty": ["Variant Inventory Qty", "Inventory quantity"],
    "tracker": ["Variant Inventory Tracker", "Inventory tracker"],
    "policy": ["Variant Inventory Policy", "Continue selling when out of stock"],
    "image": ["Image Src", "Product image URL"],
    "gift": ["Gift Card", "Gift card"],
    "option1": ["Option1 Value", "Option1 value"],
    "option2": ["Option2 Value", "Option2 value"],
    "option3": ["Option3 Value", "Option3 value"],
}

ORDER_ROLES = {
    "name": ["Name"],
    "created": ["Created at"],
    "currency": ["Currency"],
    "cancelled": ["Cancelled at"],
    "financial": ["Financial Status"],
    "quantity": ["Lineitem quantity"],
    "item": ["Lineitem name"],
    "price": ["Lineitem price"],
    "sku": ["Lineitem sku"],
}


def is_products(columns):
    names = {c.strip().lower() for c in columns}
    return ("handle" in names or "url handle" in names) and "title" in names


def is_orders(columns):
    names = {c.strip().lower() for c in columns}
    return "name" in names and "lineitem name" in names


def read_products(path, catalog, tally):
    table = Table(path)
    cols = Columns(table, PRODUCT_ROLES, ["handle", "title"], "Shopify products CSV")
    # for_sale: the current product is active (draft, archived and gift cards are not recommended).
    current, for_sale, variants_seen, titles = None, False, 0, {}

    def finish(p):
        if p is not None:
            catalog.add(p)
            tally.keep("products")
            titles.setdefault(p.title, []).append(p.id)

    for line, row in table.rows():
        handle = clean_id(cols.get(row, "handle"))
        if not handle:
            tally.drop("product row without a handle", f"{path}:{line}")
            continue
        if current is None or handle != current.id:
            if current is not None and handle in catalog.products:
                tally.drop("product rows whose handle appeared earlier, not beside its first row",
                           f"{path}:{line}")
                continue
            finish(current)
            title = cols.get(row, "title")
            if not title:
                tally.drop("first row of a handle without a title", f"{path}:{line}")
            current = Product(handle, title=title or handle, category=_category(cols, row),
                              brand=cols.get(row, "vendor"), description=_text(cols.get(row, "body")),
                              url=f"/products/{handle}", image=cols.get(row, "image"), in_stock=False)
            current.price = None
            status = cols.get(row, "status").lower()
            for_sale = status in ("", "active")
            if cols.get(row, "gift").lower() == "true":
                for_sale = False
                tally.drop("gift card products are kept out of recommendations", f"{path}:{line}")
            elif not for_sale:
                tally.keep(f"products {status} (kept, out of stock)")
        if not current.image:
            current.image = cols.get(row, "image")
        sku, price_text = cols.get(row, "sku"), cols.get(row, "price")
        is_variant = sku or price_text or any(cols.get(row, f"option{i}") for i in (1, 2, 3))
        if not is_variant:
            continue  # an image row
        variants_seen += 1
        price, _ = cols.parsed(row, "price", values.price, line)
        compare, _ = cols.parsed(row, "compare", values.price, line)
        for alias in (sku, cols.get(row, "variant_id"), cols.get(row, "barcode")):
            if alias and clean_id(alias) not in current.variants:
                current.variants.append(clean_id(alias))
        options = " / ".join(v for v in (cols.get(row, f"option{i}") for i in (1, 2, 3)) if v and v != "Default Title")
        if options:
            catalog.alias.setdefault(f"{current.title} - {options}".replace(" ", "%20"), current.id)
        if price is not None:
            regular = compare if compare and compare > price else price
            # The product's price is its cheapest variant's ("from £12").
            if current.price is None or price < (current.sale_price or current.price):
                current.price, current.sale_price = regular, price if regular > price else None
        current.in_stock = current.in_stock or (for_sale and _variant_in_stock(cols, row, line))
    finish(current)
    for title, ids in titles.items():
        if len(ids) == 1:  # a title names an item in orders only when no other product has it
            catalog.alias.setdefault(clean_id(title), ids[0])
    tally.keep("variants", variants_seen)


def _category(cols, row):
    # The store's own Type says what the product is; Shopify's taxonomy path is the fallback.
    return cols.get(row, "type") or cols.get(row, "category")


def _text(html):
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", html))
    return " ".join(text.split())[:2000]


def _variant_in_stock(cols, row, line):
    if not cols.has("qty"):
        return True
    tracker, policy = cols.get(row, "tracker").lower(), cols.get(row, "policy").lower()
    if cols.has("tracker") and not tracker:
        return True  # inventory not tracked: always for sale
    if policy in ("continue", "true"):
        return True  # sells when out of stock
    return cols.parsed(row, "qty", lambda v: values.quantity(v, default=1), line) > 0


def read_orders(path, events, tally):
    table = Table(path)
    cols = Columns(table, ORDER_ROLES, ["name", "created", "quantity", "item", "price"], "Shopify orders CSV")
    # An order exported twice (two exports given, or its rows apart) gets the same event ids
    # (order:#1001#1, …): the sessions step drops the second copy, counts it and names it.
    order, order_time, currency, skip_reason, line_no = None, None, None, None, 0
    for line, row in table.rows():
        name = cols.get(row, "name")
        if not name:
            raise cols.problem("BAD_ROW", line, "name", "a line item without its order's Name")
        if name != order:
            skip_reason = None
            order, line_no = name, 0
            created = cols.get(row, "created")
            try:
                order_time = values.timestamp(created)
            except ValueError as e:
                raise cols.problem("BAD_TIME", line, "created", str(e))
            currency = cols.get(row, "currency") or None
            financial = cols.get(row, "financial").lower()
            if skip_reason is None and cols.get(row, "cancelled"):
                skip_reason = "line items of cancelled orders"
            elif skip_reason is None and financial in ("refunded", "voided"):
                skip_reason = f"line items of {financial} orders"
            if skip_reason is None:
                tally.keep("orders")
        line_no += 1
        if skip_reason:
            tally.drop(skip_reason, f"{path}:{line}")
            continue
        qty = cols.parsed(row, "quantity", values.quantity, line)
        price, cur = cols.parsed(row, "price", values.price, line)
        sku, title = cols.get(row, "sku"), cols.get(row, "item")
        # By SKU, else the "Product - Variant" name, else the product's own title.
        raw_ids = [i for i in (sku, title.replace(" ", "%20"), title.split(" - ")[0]) if i]
        events.event(session=f"order:{name}", visitor="", time=order_time, type="purchase", raw_ids=raw_ids,
                     where=f"{path}:{line}", event_id=f"order:{name}#{line_no}", quantity=qty, price=price,
                     currency=cur or currency, order=name, title=title.split(" - ")[0])
