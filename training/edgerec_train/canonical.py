"""The canonical pair every importer writes: events and a catalog.

events.csv  one row an event: session, visitor, time (ISO 8601, UTC), type
            (view | cart | purchase), item (a catalog id), quantity, price (unit,
            the store's currency; empty when the export has none), currency,
            order, event_id (the same event exported twice has the same id),
            source (file:line it came from)
catalog.jsonl  one product a line: id, title, category (a ` > ` path), brand,
            price, sale_price, in_stock, url, image, variants (the SKUs and
            variant ids that name it in events), description
schema/event.schema.json and schema/catalog.schema.json in the repository
describe both; docs/own-data.md tells which export column lands where.
"""
import csv
import json
import re
from collections import OrderedDict

from edgerec_train.values import iso

EVENT_COLUMNS = ["session", "visitor", "time", "type", "item", "quantity", "price", "currency", "order", "event_id",
                 "source"]
EVENT_TYPES = ("view", "cart", "purchase")


def clean_id(raw):
    """An id as the sessions files and the bundle can carry it: trimmed, inner
    whitespace as %20 (the sessions files separate ids by spaces)."""
    return re.sub(r"\s", lambda m: "%{:02X}".format(ord(m[0])), raw.strip())


class Tally:
    """What an import kept, dropped and why, with where: the summary's source."""

    EXAMPLES = 3

    def __init__(self):
        self.kept = OrderedDict()
        self.dropped = OrderedDict()  # reason -> [count, [locations]]

    def keep(self, what, n=1):
        self.kept[what] = self.kept.get(what, 0) + n

    def drop(self, reason, where=None, n=1):
        entry = self.dropped.setdefault(reason, [0, []])
        entry[0] += n
        if where and len(entry[1]) < self.EXAMPLES:
            entry[1].append(where)

    def merge(self, other):
        for k, v in other.kept.items():
            self.keep(k, v)
        for reason, (n, where) in other.dropped.items():
            entry = self.dropped.setdefault(reason, [0, []])
            entry[0] += n
            entry[1] += where[:self.EXAMPLES - len(entry[1])]

    def lines(self):
        out = [f"  {what}: {n:,}" for what, n in self.kept.items()]
        for reason, (n, where) in self.dropped.items():
            out.append(f"  dropped {n:,}: {reason}" + (f" (e.g. {', '.join(where)})" if where else ""))
        return out

    def as_json(self):
        return {"kept": dict(self.kept), "dropped": {r: {"count": n, "examples": w} for r, (n, w) in self.dropped.items()}}


class Product:
    def __init__(self, id, title="", category="", brand="", price=None, sale_price=None, in_stock=True, url="",
                 image="", variants=(), description="", currency=None):
        self.id, self.title, self.category, self.brand = id, title, category, brand
        self.price, self.sale_price, self.in_stock, self.url, self.image = price, sale_price, in_stock, url, image
        self.variants, self.description, self.currency = list(variants), description, currency

    def as_json(self):
        row = {"id": self.id, "title": self.title or self.id, "category": self.category or "uncategorised"}
        for key in ("brand", "url", "image", "description"):
            if getattr(self, key):
                row[key] = getattr(self, key)
        if self.price is not None:
            row["price"] = round(self.price, 2)
        if self.sale_price is not None and self.price is not None and self.sale_price < self.price:
            row["sale_price"] = round(self.sale_price, 2)
        row["in_stock"] = bool(self.in_stock)
        if self.variants:
            row["variants"] = self.variants
        return row


class Catalog:
    """Products by id, and every alias (SKU, variant id, GTIN) that names one in events."""

    def __init__(self):
        self.products = OrderedDict()
        self.alias = {}
        self.currency = None
        self.from_events = False  # built from the events' own item fields (no product feed)

    def add(self, product, aliases=()):
        self.products[product.id] = product
        for a in [product.id, *aliases, *product.variants]:
            if a:
                self.alias.setdefault(a, product.id)

    def resolve(self, raw_ids):
        """The product a raw event id names: the first of `raw_ids` (item id, SKU, ...) it knows."""
        for raw in raw_ids:
            if raw:
                hit = self.alias.get(clean_id(str(raw)))
                if hit is not None:
                    return hit
        return None

    def note_from_event(self, item, title="", category="", brand="", price=None):
        """Without a product feed, events describe their items: the latest name and price win."""
        p = self.products.get(item)
        if p is None:
            p = Product(item)
            self.add(p)
        p.title = title or p.title
        p.category = category or p.category
        p.brand = brand or p.brand
        p.price = price if price is not None else p.price

    def write(self, path):
        with open(path, "w", encoding="utf-8") as f:
            for p in self.products.values():
                f.write(json.dumps(p.as_json(), ensure_ascii=False) + "\n")


class EventWriter:
    """Canonical events, streamed to CSV, with the store's currency checked:
    the first currency seen (or the catalog's) is the store's; a price in
    another currency is dropped from its event (counted, located)."""

    def __init__(self, path, catalog, tally):
        self.file = open(path, "w", encoding="utf-8", newline="")
        self.csv = csv.writer(self.file)
        self.csv.writerow(EVENT_COLUMNS)
        self.catalog, self.tally = catalog, tally
        self.count = 0
        self.progress = None

    def event(self, *, session, visitor, time, type, raw_ids, where, event_id, quantity=1, price=None, currency=None,
              order="", title="", category="", brand=""):
        """One event; `raw_ids` are the ids the export gives for its item (product id, SKU, ...), tried in order."""
        item = self.catalog.resolve(raw_ids)
        if item is None:
            if self.catalog.from_events and raw_ids and raw_ids[0]:
                item = clean_id(str(raw_ids[0]))
                self.catalog.note_from_event(item, title, category, brand, price)
            else:
                self.tally.drop(f"{type} of an item not in the catalog", where)
                return
        elif self.catalog.from_events:
            self.catalog.note_from_event(item, title, category, brand, price)
        currency = currency.upper() if currency else None
        if currency and price is not None:
            store = self.catalog.currency
            if store is None:
                self.catalog.currency = currency
            elif currency != store:
                self.tally.drop(f"price in {currency}, not the store's {store} (event kept, price left out)", where)
                price = None
        if quantity <= 0:
            self.tally.drop(f"{type} with quantity {quantity}", where)
            return
        self.csv.writerow([session, visitor, iso(time), type, item, quantity,
                           "" if price is None else f"{price:.4f}".rstrip("0").rstrip("."), currency or "",
                           order, event_id, where])
        self.count += 1
        self.tally.keep(f"{type} events")
        if self.progress is not None:
            self.progress.update()

    def close(self):
        self.file.close()
