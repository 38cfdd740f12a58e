"""Google Merchant Center product feeds: TSV (a header of attribute names,
tab-separated) and XML (RSS 2.0 with the `g:` namespace, or Atom).

Spec: support.google.com/merchants/answer/7052112. Prices are `15.00 USD`;
availability `in_stock` / `out_of_stock` / `preorder` / `backorder` (older
feeds: `in stock`); variants share an `item_group_id` and become one catalog
item (the group), their ids its aliases; `product_type` is the store's own
` > ` path, `google_product_category` Google's (an id or a path)."""
import xml.etree.ElementTree as ET

from edgerec_train import values
from edgerec_train.canonical import Product, clean_id
from edgerec_train.errors import ImportProblem
from edgerec_train.formats.columns import Columns
from edgerec_train.located import READ_ERRORS, Table, open_text, unreadable

ATTRIBUTES = ["id", "title", "description", "link", "image_link", "availability", "price", "sale_price", "brand",
              "gtin", "mpn", "item_group_id", "product_type", "google_product_category"]
ROLES = {a: [a, "g:" + a, a.replace("_", " ")] for a in ATTRIBUTES}
IN_STOCK = {"in_stock": True, "in stock": True, "preorder": True, "backorder": True, "available for order": True,
            "out_of_stock": False, "out of stock": False}


def is_merchant_tsv(columns):
    names = {c.strip().lower().removeprefix("g:") for c in columns}
    return {"id", "title", "price"} <= names and ("availability" in names or "link" in names)


def read_tsv(path, catalog, tally):
    table = Table(path, delimiter="\t")
    cols = Columns(table, ROLES, ["id", "title", "price"], "Merchant Center TSV feed")
    for line, row in table.rows():
        attrs = {a: cols.get(row, a) for a in ATTRIBUTES}
        _add(attrs, catalog, tally, f"{path}:{line}",
             lambda code, attr, msg, line=line: cols.problem(code, line, attr, msg))


def read_xml(path, catalog, tally):
    """Items of an RSS 2.0 (`<item>`) or Atom (`<entry>`) feed, streamed."""
    try:
        for line, el in _items(path):
            attrs = {a: "" for a in ATTRIBUTES}
            for child in el:
                name = _local(child.tag)
                if name in attrs and not attrs[name]:
                    attrs[name] = (child.text or child.get("href") or "").strip()
            where = f"{path}:{line}" if line else f"{path}:item {attrs['id'] or '?'}"
            _add(attrs, catalog, tally, where,
                 lambda code, attr, msg: ImportProblem(code, path, f"item {attrs['id']!r}, <g:{attr}>: {msg}", line))
            el.clear()
    except ET.ParseError as e:
        row, col = e.position
        raise ImportProblem("BAD_XML", path, f"not well-formed XML: {e}", line=row, column=col + 1)
    except (UnicodeDecodeError, *READ_ERRORS) as e:
        raise unreadable(path, e)


def _items(path):
    """(line of its start tag, element) of each complete <item> / <entry>, the
    file fed a line at a time so that each item's line is known."""
    parser = ET.XMLPullParser(events=("start", "end"))
    starts = []
    with open_text(path) as f:
        for n, text in enumerate(f, 1):
            parser.feed(text)
            for event, el in parser.read_events():
                if _local(el.tag) in ("item", "entry"):
                    if event == "start":
                        starts.append(n)
                    else:
                        yield starts.pop() if starts else n, el
    parser.close()


def _local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _add(attrs, catalog, tally, where, problem):
    raw_id = clean_id(attrs["id"])
    if not raw_id:
        tally.drop("feed items without an id", where)
        return
    group = clean_id(attrs["item_group_id"]) or raw_id
    try:
        price, currency = values.price(attrs["price"])
    except ValueError as e:
        raise problem("BAD_NUMBER", "price", str(e))
    try:
        sale, sale_currency = values.price(attrs["sale_price"].split("/")[0] if attrs["sale_price"] else "")
    except ValueError as e:
        raise problem("BAD_NUMBER", "sale_price", str(e))
    for cur in (currency, sale_currency):
        if cur:
            if catalog.currency is None:
                catalog.currency = cur
            elif cur != catalog.currency:
                tally.drop(f"feed items priced in {cur}, not the feed's {catalog.currency}", where)
                return
    availability = attrs["availability"].strip().lower()
    if availability and availability not in IN_STOCK:
        tally.drop(f"unknown availability {availability!r} read as in stock", where)
    in_stock = IN_STOCK.get(availability, True)
    p = catalog.products.get(group)
    if p is None:
        # The first of several comma-separated product_type paths; Google's category only as a path, not an id.
        google = "" if attrs["google_product_category"].isdigit() else attrs["google_product_category"]
        p = Product(group, title=attrs["title"], category=attrs["product_type"].split(",")[0].strip() or google,
                    brand=attrs["brand"], price=price, sale_price=sale, in_stock=in_stock, url=attrs["link"],
                    image=attrs["image_link"], description=" ".join(attrs["description"].split())[:2000])
        catalog.add(p)
        tally.keep("products")
    else:
        p.title = _shared_title(p.title, attrs["title"])
        p.in_stock = p.in_stock or in_stock
        if price is not None and (p.price is None or price < p.price):
            p.price, p.sale_price = price, sale
    tally.keep("variants")
    for alias in (raw_id, clean_id(attrs["gtin"]), clean_id(attrs["mpn"])):
        if alias and alias not in p.variants:
            p.variants.append(alias)
            catalog.alias.setdefault(alias, group)


def _shared_title(a, b):
    """A group's title: what its variants' titles share ("Merino Crew Sock - S"
    and "… - M" give "Merino Crew Sock"), or the first title if they share little."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    shared = a[:n].rstrip(" -–,/(:")
    return shared if n < len(a) and len(shared) >= 3 else a
