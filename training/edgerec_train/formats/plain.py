"""A plain CSV (or TSV) with a header, for every other system: events (a row
an event, or an order line) or a catalog (a row a product), its columns found
by the usual names. Times are ISO 8601 (an offset, `Z`, or UTC when absent)
or Unix seconds, milliseconds or microseconds."""
from edgerec_train import values
from edgerec_train.canonical import Product, clean_id
from edgerec_train.formats.columns import Columns
from edgerec_train.located import Table

EVENT_ROLES = {
    "session": ["session", "session id", "sessionid", "visit", "visit id"],
    "visitor": ["visitor", "visitor id", "user", "user id", "userid", "customer", "customer id", "customerid",
                "anonymous id", "client id"],
    "time": ["time", "timestamp", "datetime", "date", "event time", "created at", "invoicedate", "order date"],
    "type": ["type", "event", "event type", "event name", "action", "behavior type", "behaviour type"],
    "item": ["item", "item id", "itemid", "product", "product id", "productid", "sku", "stockcode"],
    "quantity": ["quantity", "qty"],
    "price": ["price", "unit price", "unitprice", "item price"],
    "currency": ["currency"],
    "order": ["order", "order id", "orderid", "invoice", "invoiceno", "invoice no", "transaction id"],
    "title": ["title", "name", "product name", "description"],
    "category": ["category", "category id", "product type", "category path"],
}
CATALOG_ROLES = {
    "id": ["id", "item", "item id", "product id", "sku"],
    "title": ["title", "name", "product name"],
    "category": ["category", "product type", "category path"],
    "brand": ["brand", "vendor"],
    "price": ["price"],
    "sale_price": ["sale price", "sale_price"],
    "in_stock": ["in stock", "in_stock", "availability", "available"],
    "url": ["url", "link"],
    "image": ["image", "image url", "image link"],
    "description": ["description"],
    "group": ["group", "item group id", "variant group", "parent id"],
}
TYPES = {
    "view": "view", "views": "view", "click": "view", "clicks": "view", "detail": "view", "pageview": "view",
    "product viewed": "view", "view item": "view", "product view": "view", "pv": "view",
    # A wishlist add keeps its item in the session, as a view does.
    "fav": "view", "favorite": "view", "favourite": "view", "add to wishlist": "view", "wishlist": "view",
    "cart": "cart", "add to cart": "cart", "addtocart": "cart", "add": "cart", "product added": "cart",
    "purchase": "purchase", "buy": "purchase", "order": "purchase", "transaction": "purchase", "sale": "purchase",
    "order completed": "purchase",
}
TRUE = {"true", "yes", "1", "y", "in stock", "in_stock", "instock", "available"}
FALSE = {"false", "no", "0", "n", "out of stock", "out_of_stock", "outofstock", "unavailable"}


def knows_a_column(columns):
    """Whether any header field is one of the names this module reads."""
    names = {n for roles in (EVENT_ROLES, CATALOG_ROLES) for aliases in roles.values() for n in aliases}
    return any(" ".join(c.strip().lower().replace("_", " ").split()) in names for c in columns)


def sniff_delimiter(header_line):
    return "\t" if header_line.count("\t") > header_line.count(",") else ","


def is_catalog(columns):
    names = {" ".join(c.strip().lower().replace("_", " ").split()) for c in columns}
    has = lambda role_names: any(n in names for n in role_names)  # noqa: E731
    return has(CATALOG_ROLES["title"]) and not has(EVENT_ROLES["time"]) and not has(EVENT_ROLES["session"])


def read_catalog(path, delimiter, catalog, tally):
    table = Table(path, delimiter)
    cols = Columns(table, CATALOG_ROLES, ["id", "title"], "catalog CSV")
    for line, row in table.rows():
        raw = clean_id(cols.get(row, "id"))
        if not raw:
            tally.drop("catalog rows without an id", f"{path}:{line}")
            continue
        try:
            price, currency = values.price(cols.get(row, "price"))
            sale, _ = values.price(cols.get(row, "sale_price"))
        except ValueError as e:
            raise cols.problem("BAD_NUMBER", line, "price", str(e))
        stock = cols.get(row, "in_stock").lower()
        if stock and stock not in TRUE | FALSE:
            raise cols.problem("BAD_ROW", line, "in_stock", f"{stock!r} is neither in stock (true/yes/1) nor out (false/no/0)")
        group = clean_id(cols.get(row, "group")) or raw
        if group in catalog.products:
            p = catalog.products[group]
            p.variants.append(raw)
            catalog.alias.setdefault(raw, group)
            tally.keep("variants")
            continue
        catalog.currency = catalog.currency or currency
        catalog.add(Product(group, title=cols.get(row, "title"), category=cols.get(row, "category"),
                            brand=cols.get(row, "brand"), price=price, sale_price=sale, in_stock=stock not in FALSE,
                            url=cols.get(row, "url"), image=cols.get(row, "image"),
                            description=cols.get(row, "description")[:2000], variants=[raw] if raw != group else []))
        tally.keep("products")


def read_events(path, delimiter, events, tally):
    table = Table(path, delimiter)
    cols = Columns(table, EVENT_ROLES, ["item", "time"], "events CSV")
    if not (cols.has("session") or cols.has("visitor") or cols.has("order")):
        raise cols.problem("MISSING_COLUMN", 1, None,
                           "an events CSV needs a session, a visitor (user, customer) or an order column to group by")
    for line, row in table.rows():
        where = f"{path}:{line}"
        raw_type = " ".join(cols.get(row, "type").lower().replace("_", " ").split())
        if cols.has("type"):
            kind = TYPES.get(raw_type)
            if kind is None:
                tally.drop(f"events of type {raw_type!r}" if raw_type else "events with an empty type", where)
                continue
        else:
            kind = "purchase" if cols.has("order") else "view"
        when = cols.parsed(row, "time", values.timestamp, line, "BAD_TIME")
        qty = cols.parsed(row, "quantity", values.quantity, line)
        price, currency = cols.parsed(row, "price", values.price, line)
        order = cols.get(row, "order")
        session = cols.get(row, "session") or (f"order:{order}" if order and not cols.has("visitor") else "")
        visitor = cols.get(row, "visitor")
        if not session and not visitor:
            tally.drop("events with no session, visitor or order", where)
            continue
        events.event(session=session, visitor=visitor, time=when, type=kind, raw_ids=[cols.get(row, "item")],
                     where=where, event_id=f"{path}:{line}", quantity=qty, price=price,
                     currency=cols.get(row, "currency") or currency, order=order if kind == "purchase" else "",
                     title=cols.get(row, "title"), category=cols.get(row, "category"))
