"""The store-export importers (edgerec_train.imports / detect / formats / values /
sessions) on the hand-made fixtures in fixtures/exports/ (see its README.md):
exact results read off the fixtures by hand, located refusals for bad input,
the value parsers, and a seeded fuzz whose only allowed exception is ImportProblem.

    cd training && python test_importers.py      (standard library + the package; ~20 s)

Run with an installed edgerec-train (scripts/test-own-data.sh), it tests that
package; run from the repository, the package beside it."""
import csv
import datetime as dt
import gzip
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import traceback
import unittest
import warnings
from xml.sax.saxutils import escape as xml_escape

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import edgerec_train  # noqa: F401  (an installed package is the one under test)
except ImportError:
    sys.path.insert(0, HERE)
# DuckDB prints TIMESTAMPTZ in the local zone (see Sessions.test_split_times_do_not_depend_...).
os.environ["TZ"] = "UTC"
time.tzset()

from edgerec_train import sessions, values  # noqa: E402
from edgerec_train.canonical import EVENT_COLUMNS, EVENT_TYPES  # noqa: E402
from edgerec_train.detect import CATALOG, EVENTS, detect  # noqa: E402
from edgerec_train.errors import CODES, ImportProblem  # noqa: E402
from edgerec_train.imports import import_exports  # noqa: E402
import edgerec_train.imports  # noqa: E402

if hasattr(edgerec_train.imports, "tqdm"):  # no progress bar per test import on a terminal
    _tqdm = edgerec_train.imports.tqdm
    edgerec_train.imports.tqdm = lambda *a, **kw: _tqdm(*a, **{**kw, "disable": True})

FIXTURES = os.path.join(HERE, "fixtures", "exports")
UTC = dt.timezone.utc


def fx(name):
    return os.path.join(FIXTURES, name)


def fixture_bytes(name):
    with open(fx(name), "rb") as f:
        return f.read()


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC).timestamp()


def quiet(*_args, **_kw):
    pass


class Case(unittest.TestCase):
    """A temp folder, and helpers to import into it and read the canonical pair back."""

    def setUp(self):
        # The importers leak file handles (see Crashes.test_gzip_files_are_closed): keep the output readable.
        warnings.simplefilter("ignore", ResourceWarning)
        tmp = tempfile.TemporaryDirectory(prefix="edgerec-import-test-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        self._n = 0

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        return path

    def out_dir(self):
        self._n += 1
        return os.path.join(self.tmp, f"out{self._n}")

    def run_import(self, catalogs, events):
        """(catalog rows, event rows, tally as JSON, out folder)."""
        out = self.out_dir()
        catalog, count, tally = import_exports(catalogs, events, out, log=quiet)
        with open(os.path.join(out, "catalog.jsonl"), encoding="utf-8") as f:
            products = [json.loads(line) for line in f]
        with open(os.path.join(out, "events.csv"), encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(count, len(rows))
        self.assertEqual(len(products), len(catalog.products))
        return products, rows, tally.as_json(), out

    def refused(self, catalogs, events):
        with self.assertRaises(ImportProblem) as cm:
            import_exports(catalogs, events, self.out_dir(), log=quiet)
        self.assertIn(cm.exception.code, CODES)
        return cm.exception

    def assertProblem(self, e, code, path, line, column):
        self.assertEqual((e.code, e.path, e.line, e.column), (code, path, line, column), str(e))

    def assertProduct(self, row, **expected):
        """Each expected key equal; `sale_price=None` means the key is absent."""
        for key, want in expected.items():
            if want is None:
                self.assertNotIn(key, row, row["id"])
            else:
                self.assertEqual(row.get(key), want, f"{row['id']}.{key}")


def events_table(rows, fields=("time", "type", "item", "quantity", "price", "currency", "order")):
    return [tuple(r[f] for f in fields) for r in rows]


def lines_of(rows):
    """The source line numbers of the events (their `file:line`)."""
    return [int(r["source"].rsplit(":", 1)[1]) for r in rows]


# ---------------------------------------------------------------------------------------------
# 1. Each fixture format, exact results.
# ---------------------------------------------------------------------------------------------

SHOPIFY_CATALOG = [
    {"id": "merino-crew-sock", "title": "Merino Crew Sock", "category": "Socks", "brand": "Larkspur",
     "url": "/products/merino-crew-sock",
     "image": "https://cdn.shopify.com/s/files/1/0612/3456/7890/files/merino-crew-sock-charcoal.jpg?v=1709812345",
     "description": "Our everyday 9\" crew sock, knit from merino, nylon & a touch of elastane. Cushioned sole, "
                    "\"no-slip\" ribbed cuff Machine wash cold, lay flat to dry",
     "price": 22.0, "sale_price": 18.0, "in_stock": True,
     "variants": ["LK-SOCK-S", "0840123400011", "LK-SOCK-M", "0840123400028", "LK-SOCK-L", "0840123400035"]},
    {"id": "canvas-tote", "title": "Canvas Tote", "category": "Bags", "brand": "Larkspur", "url": "/products/canvas-tote",
     "image": "https://cdn.shopify.com/s/files/1/0612/3456/7890/files/canvas-tote-natural.jpg?v=1709812400",
     "description": "Heavy 12 oz cotton canvas, natural and undyed.", "price": 34.0, "in_stock": True,
     "variants": ["LK-TOTE-NAT"]},
    {"id": "canvas-tote-1", "title": "Canvas Tote", "category": "Bags", "brand": "Larkspur",
     "url": "/products/canvas-tote-1",
     "image": "https://cdn.shopify.com/s/files/1/0612/3456/7890/files/canvas-tote-black.jpg?v=1709812401",
     "description": "The same heavy canvas, dyed black. Limited run.", "price": 36.0, "in_stock": True,
     "variants": ["LK-TOTE-BLK"]},
    {"id": "enamel-camp-mug", "title": "Enamel Camp Mug", "category": "Mugs", "brand": "Field & Flame",
     "url": "/products/enamel-camp-mug",
     "image": "https://cdn.shopify.com/s/files/1/0612/3456/7890/files/enamel-camp-mug.jpg?v=1709812450",
     "description": "12 oz enamelled steel with a speckled finish. Not for the microwave.", "price": 16.0,
     "in_stock": True, "variants": ["LK-MUG-12", "0840123400042"]},
]

# shopify_orders.csv read by hand: (line, time in UTC, item, quantity, unit price, order).
# #1004 (line 3) is cancelled; #1002's "Gift wrap" (line 8: line 6's Note Attributes spans
# 6-7) has no SKU and no product; times cross DST: -0500 up to #1002, -0400 from #1003.
SHOPIFY_ORDER_EVENTS = [
    (2, "2025-03-11T23:45:10.000Z", "enamel-camp-mug", "2", "16", "#1005", "order:#1005#1"),
    (4, "2025-03-09T18:05:33.000Z", "merino-crew-sock", "1", "18", "#1003", "order:#1003#1"),
    (5, "2025-03-09T18:05:33.000Z", "canvas-tote-1", "1", "36", "#1003", "order:#1003#2"),
    (6, "2025-03-09T03:40:05.000Z", "canvas-tote", "1", "34", "#1002", "order:#1002#1"),
    (9, "2025-03-07T14:12:44.000Z", "merino-crew-sock", "2", "18", "#1001", "order:#1001#1"),
    (10, "2025-03-07T14:12:44.000Z", "enamel-camp-mug", "1", "16", "#1001", "order:#1001#2"),
]

SEGMENT_KEPT = {"view events": 6, "cart events": 4, "purchase events": 3}
SEGMENT_A = "3f2b9c1e-7a44-4d0b-9e2f-5c1a8b6d0e71"
SEGMENT_B = "b7d41e08-2c9a-4f61-a3de-90c4f2e6a518"
SEGMENT_C = "e19a5f3c-0b8d-4c27-8f6e-2d7b1a9c4e35"


def segment_expected(sock, tote, tote1, mug):
    """segment_events.jsonl by hand, given the ids the catalog names the products by:
    (line, visitor, time, type, item, quantity, price, currency, order). Lines 5 (page),
    10 (Product Removed) and 14 (identify) give nothing; line 11's gift wrap has no id."""
    return [
        (1, SEGMENT_A, "2025-03-09T17:58:02.114Z", "view", sock, "1", "18", "USD", ""),
        (2, SEGMENT_A, "2025-03-09T18:01:40.502Z", "cart", sock, "1", "18", "", ""),
        (3, SEGMENT_C, "2025-03-09T03:31:10.402Z", "view", sock, "1", "18", "USD", ""),
        (4, SEGMENT_C, "2025-03-09T03:35:48.017Z", "view", tote, "1", "34", "USD", ""),
        (6, SEGMENT_B, "2025-03-09T13:10:41.730Z", "view", mug, "1", "16", "USD", ""),
        (7, SEGMENT_A, "2025-03-09T18:02:15.877Z", "view", tote1, "1", "36", "USD", ""),
        (8, SEGMENT_C, "2025-03-09T03:36:20.955Z", "cart", tote, "1", "34", "", ""),
        (9, SEGMENT_B, "2025-03-09T13:11:05.006Z", "cart", mug, "2", "16", "", ""),
        (11, SEGMENT_C, "2025-03-09T03:40:06.310Z", "purchase", tote, "1", "34", "USD", "6101234567892"),
        (12, SEGMENT_A, "2025-03-09T18:02:31.240Z", "cart", tote1, "1", "36", "", ""),
        (13, SEGMENT_B, "2025-03-09T13:16:30.992Z", "view", tote, "1", "34", "USD", ""),
        (15, SEGMENT_A, "2025-03-09T18:05:34.120Z", "purchase", sock, "1", "18", "USD", "6101234567893"),
        (15, SEGMENT_A, "2025-03-09T18:05:34.120Z", "purchase", tote1, "1", "36", "USD", "6101234567893"),
    ]


def segment_table(rows):
    return [(int(r["source"].rsplit(":", 1)[1]), r["visitor"].removeprefix("segment:"), r["time"], r["type"],
             r["item"], r["quantity"], r["price"], r["currency"], r["order"]) for r in rows]


GA4_A = "1408236741.1741542930"
GA4_B = "902734561.1741525800"
GA4_C = "1733026419.1741491061"


def ga4_expected(sock, tote, tote1, mug):
    """ga4_events.jsonl by hand: (line, session, time, type, item, quantity, price, order).
    Lines 1, 5, 9 (page_view), 8 (remove_from_cart) and 13 (begin_checkout) give nothing.
    event_timestamp is µs as a string; C's rows say event_date 20250308 (New York) but are
    9 March in UTC."""
    sa, sb, sc = f"ga4:{GA4_A}.1741542930", f"ga4:{GA4_B}.1741525800", f"ga4:{GA4_C}.1741491061"
    return [
        (2, sc, "2025-03-09T03:31:10.402Z", "view", sock, "1", "18", ""),
        (3, sc, "2025-03-09T03:36:20.955Z", "cart", tote, "1", "34", ""),
        (4, sc, "2025-03-09T03:40:06.310Z", "purchase", tote, "1", "34", "#1002"),
        (6, sb, "2025-03-09T13:10:41.730Z", "view", mug, "1", "16", ""),
        (7, sb, "2025-03-09T13:11:05.006Z", "cart", mug, "2", "16", ""),
        (10, sa, "2025-03-09T17:58:02.114Z", "view", sock, "1", "18", ""),
        (11, sa, "2025-03-09T18:01:40.502Z", "cart", sock, "1", "18", ""),
        (12, sa, "2025-03-09T18:02:31.240Z", "cart", tote1, "1", "36", ""),
        (14, sa, "2025-03-09T18:05:34.120Z", "purchase", sock, "1", "18", "#1003"),
        (14, sa, "2025-03-09T18:05:34.120Z", "purchase", tote1, "1", "36", "#1003"),
    ]


def ga4_table(rows):
    for r in rows:
        assert r["visitor"] == "ga4:" + r["session"][4:].rsplit(".", 1)[0], r
        assert r["currency"] == "USD", r
    return [(int(r["source"].rsplit(":", 1)[1]), r["session"], r["time"], r["type"], r["item"], r["quantity"],
             r["price"], r["order"]) for r in rows]


class ShopifyImport(Case):
    def test_products_and_orders(self):
        products, rows, tally, _ = self.run_import([fx("shopify_products.csv")], [fx("shopify_orders.csv")])
        self.assertEqual(products, SHOPIFY_CATALOG)
        orders = fx("shopify_orders.csv")
        self.assertEqual([(int(r["source"].rsplit(":", 1)[1]), r["time"], r["item"], r["quantity"], r["price"],
                           r["order"], r["event_id"]) for r in rows], SHOPIFY_ORDER_EVENTS)
        for r in rows:
            self.assertEqual((r["type"], r["currency"], r["visitor"]), ("purchase", "USD", ""))
            self.assertEqual(r["session"], "order:" + r["order"])
            self.assertTrue(r["source"].startswith(orders + ":"))
        self.assertEqual(tally["kept"], {"products": 4, "variants": 6, "orders": 4, "purchase events": 6})
        self.assertEqual(tally["dropped"], {
            "line items of cancelled orders": {"count": 1, "examples": [f"{orders}:3"]},
            "purchase of an item not in the catalog": {"count": 1, "examples": [f"{orders}:8"]},
        })

    def test_created_at_crosses_dst(self):
        _, rows, _, _ = self.run_import([fx("shopify_products.csv")], [fx("shopify_orders.csv")])
        by_order = {r["order"]: values.timestamp(r["time"]) for r in rows}
        # #1002 2025-03-08 22:40:05 -0500 and #1003 2025-03-09 14:05:33 -0400: 15:25:28 on the
        # wall clock, 14:25:28 of real time (the clocks went forward at 2 a.m.).
        self.assertEqual(by_order["#1003"] - by_order["#1002"], 14 * 3600 + 25 * 60 + 28)
        self.assertEqual(by_order["#1002"], utc(2025, 3, 9, 3, 40, 5))
        self.assertEqual(by_order["#1003"], utc(2025, 3, 9, 18, 5, 33))

    def test_both_product_dialects_give_the_same_catalog(self):
        a, _, tally_a, out_a = self.run_import([fx("shopify_products.csv")], [fx("shopify_orders.csv")])
        b, _, tally_b, out_b = self.run_import([fx("shopify_products_2025.csv")], [fx("shopify_orders.csv")])
        self.assertEqual(b, SHOPIFY_CATALOG)
        with open(os.path.join(out_a, "catalog.jsonl"), "rb") as fa, open(os.path.join(out_b, "catalog.jsonl"), "rb") as fb:
            self.assertEqual(fa.read(), fb.read())
        self.assertEqual(tally_a, tally_b)

    def test_order_fields_are_read_from_the_first_row_of_each_order(self):
        # Follow-on rows of an order: Created at / Currency / Financial Status / Cancelled at blank,
        # or even contradicting the first row; the order's own fields come from its first row.
        with open(fx("shopify_orders.csv"), encoding="utf-8", newline="") as f:
            table = list(csv.reader(f))
        header = table[0]
        col = {name: header.index(name) for name in ("Name", "Created at", "Currency", "Cancelled at")}
        blank, contradict = [header], [header]
        previous = None
        for row in table[1:]:
            follow_on = row[col["Name"]] == previous
            previous = row[col["Name"]]
            b, c = list(row), list(row)
            if follow_on:
                b[col["Created at"]] = ""
                c[col["Created at"]] = "2030-01-01 00:00:00 +0000"
                c[col["Currency"]] = "EUR"
                c[col["Cancelled at"]] = "2025-03-12 10:00:00 -0400"
            blank.append(b)
            contradict.append(c)
        for name, table_ in (("blank.csv", blank), ("contradict.csv", contradict)):
            with open(os.path.join(self.tmp, name), "w", encoding="utf-8", newline="") as f:
                csv.writer(f, lineterminator="\n").writerows(table_)
            path = os.path.join(self.tmp, name)
            _, rows, tally, _ = self.run_import([fx("shopify_products.csv")], [path])
            with self.subTest(name):
                self.assertEqual([(int(r["source"].rsplit(":", 1)[1]), r["time"], r["item"], r["quantity"], r["price"],
                                   r["order"], r["event_id"]) for r in rows], SHOPIFY_ORDER_EVENTS)
                self.assertEqual({r["currency"] for r in rows}, {"USD"})
                self.assertEqual(tally["kept"]["orders"], 4)
                self.assertEqual(set(tally["dropped"]), {"line items of cancelled orders",
                                                         "purchase of an item not in the catalog"})

    def test_stock(self):
        data = fixture_bytes("shopify_products.csv").decode()
        # The mug's only variant: 0 left, deny → out of stock. The black tote: 0 left but
        # `continue` → in stock. The sock: M has 0 / deny but S and L have stock → in stock.
        data = data.replace(",LK-MUG-12,280,shopify,40,deny,", ",LK-MUG-12,280,shopify,0,deny,")
        products, _, _, _ = self.run_import([self.write("p.csv", data)], [fx("shopify_orders.csv")])
        stock = {p["id"]: p["in_stock"] for p in products}
        self.assertEqual(stock, {"merino-crew-sock": True, "canvas-tote": True, "canvas-tote-1": True,
                                 "enamel-camp-mug": False})
        # A draft product is not for sale.
        lines = fixture_bytes("shopify_products.csv").decode().split("\n")
        self.assertTrue(lines[9].startswith("canvas-tote,") and lines[9].endswith(",active"))
        lines[9] = lines[9][: lines[9].rindex(",")] + ",draft"  # line 10, the natural tote
        products, _, tally, _ = self.run_import([self.write("d.csv", "\n".join(lines))], [fx("shopify_orders.csv")])
        self.assertFalse({p["id"]: p for p in products}["canvas-tote"]["in_stock"])
        self.assertEqual(tally["kept"]["products draft (kept, out of stock)"], 1)

    def test_order_line_without_a_sku_resolves_by_a_unique_title_only(self):
        data = fixture_bytes("shopify_orders.csv").decode()
        data = data.replace(",Enamel Camp Mug,16.00,\"\",LK-MUG-12,", ",Enamel Camp Mug,16.00,\"\",,")  # #1001 line 10
        data = data.replace(",Canvas Tote,34.00,,LK-TOTE-NAT,", ",Canvas Tote,34.00,,,")  # #1002 line 6
        path = self.write("o.csv", data)
        _, rows, tally, _ = self.run_import([fx("shopify_products.csv")], [path])
        self.assertEqual([(line, item) for line, item in zip(lines_of(rows), (r["item"] for r in rows))],
                         [(2, "enamel-camp-mug"), (4, "merino-crew-sock"), (5, "canvas-tote-1"),
                          (9, "merino-crew-sock"), (10, "enamel-camp-mug")])
        # Two products are called "Canvas Tote": without its SKU the line names neither.
        self.assertEqual(tally["dropped"]["purchase of an item not in the catalog"],
                         {"count": 2, "examples": [f"{path}:6", f"{path}:8"]})

    def test_crlf_and_byte_order_mark(self):
        for catalog, events in (("shopify_products.csv", "shopify_orders.csv"),
                                ("shopify_products_2025.csv", "shopify_orders.csv")):
            want_p, want_e, want_t, _ = self.run_import([fx(catalog)], [fx(events)])
            c = self.write("crlf/" + catalog, b"\xef\xbb\xbf" + fixture_bytes(catalog).replace(b"\n", b"\r\n"))
            e = self.write("crlf/" + events, b"\xef\xbb\xbf" + fixture_bytes(events).replace(b"\n", b"\r\n"))
            got_p, got_e, got_t, _ = self.run_import([c], [e])
            with self.subTest(catalog):
                self.assertEqual(got_p, want_p)
                self.assertEqual(events_table(got_e), events_table(want_e))
                self.assertEqual(lines_of(got_e), lines_of(want_e))
                self.assertEqual(got_t["kept"], want_t["kept"])


class MerchantImport(Case):
    def check_catalog(self, products, mug_category):
        self.assertEqual([p["id"] for p in products], ["8012345678901", "LK-TOTE-NAT", "LK-TOTE-BLK", "LK-MUG-12"])
        sock, nat, blk, mug = products
        # Merchant Center `price` is the regular price, `sale_price` the current one.
        self.assertProduct(sock, title="Merino Crew Sock", category="Apparel > Socks > Merino", brand="Larkspur",
                           price=22.0, sale_price=18.0, in_stock=True,
                           url="https://larkspur.example/products/merino-crew-sock?variant=44123456789001",
                           variants=["LK-SOCK-S", "0840123400011", "LK-SOCK-M", "0840123400028",
                                     "LK-SOCK-L", "0840123400035"])
        self.assertTrue(sock["description"].startswith("Our everyday 9\" crew sock, knit from merino, nylon & a "))
        self.assertIn("\"no-slip\" ribbed cuff", sock["description"])
        # `in stock` (old spelling) and `backorder` are for sale; the tote's Google category
        # path (with its comma) is not used over the store's product_type.
        self.assertProduct(nat, title="Canvas Tote", category="Bags > Totes", price=34.0, sale_price=None,
                           in_stock=True, variants=["LK-TOTE-NAT"],
                           url="https://larkspur.example/products/canvas-tote")
        self.assertProduct(blk, title="Canvas Tote", category="Bags > Totes", price=36.0, sale_price=None,
                           in_stock=True, variants=["LK-TOTE-BLK"])
        self.assertProduct(mug, title="Enamel Camp Mug", brand="Field & Flame", price=16.0, sale_price=None,
                           in_stock=True, variants=["LK-MUG-12", "0840123400042"], category=mug_category)

    def test_tsv_with_ga4(self):
        products, rows, tally, _ = self.run_import([fx("merchant_center.tsv")], [fx("ga4_events.jsonl")])
        self.check_catalog(products, mug_category="Home > Kitchen > Mugs")
        # The SKUs of the sock's variants name its item group; the others name themselves.
        self.assertEqual(ga4_table(rows), ga4_expected("8012345678901", "LK-TOTE-NAT", "LK-TOTE-BLK", "LK-MUG-12"))
        self.assertEqual(tally["kept"], {"products": 4, "variants": 6, "view events": 3, "cart events": 4,
                                         "purchase events": 3})
        self.assertEqual(tally["dropped"], {"events other than view_item / add_to_cart / purchase":
                                            {"count": 5, "examples": []}})

    def test_xml_with_segment(self):
        products, rows, tally, _ = self.run_import([fx("merchant_center.xml")], [fx("segment_events.jsonl")])
        # The first of the mug's two <g:product_type>; the nested <g:shipping><g:price> is not its price.
        self.check_catalog(products, mug_category="Home > Kitchen > Mugs")
        # Segment's product_id 8012345678901 is the sock's item_group_id; the totes' and the mug's
        # product ids are unknown to the feed, their SKUs name them.
        self.assertEqual(segment_table(rows), segment_expected("8012345678901", "LK-TOTE-NAT", "LK-TOTE-BLK",
                                                               "LK-MUG-12"))
        self.assertEqual(tally["kept"], {"products": 4, "variants": 6, **SEGMENT_KEPT})

    def test_availability(self):
        data = fixture_bytes("merchant_center.tsv").decode()
        lines = data.split("\n")
        # Every sock size out of stock (two spellings) → the group is out of stock; the mug too.
        lines[1] = lines[1].replace("\tin_stock\t", "\tout of stock\t")
        lines[3] = lines[3].replace("\tin_stock\t", "\tout_of_stock\t")
        lines[6] = lines[6].replace("\tin_stock\t", "\tout_of_stock\t")
        products, _, _, _ = self.run_import([self.write("m.tsv", "\n".join(lines))], [fx("segment_events.jsonl")])
        self.assertEqual({p["id"]: p["in_stock"] for p in products},
                         {"8012345678901": False, "LK-TOTE-NAT": True, "LK-TOTE-BLK": True, "LK-MUG-12": False})

    def test_tsv_and_xml_give_the_same_catalog(self):
        # The TSV's two comma-separated product_type paths: the first, as the XML's first element.
        tsv, _, _, _ = self.run_import([fx("merchant_center.tsv")], [fx("segment_events.jsonl")])
        xml, _, _, _ = self.run_import([fx("merchant_center.xml")], [fx("segment_events.jsonl")])
        self.assertEqual(tsv, xml)

    def test_crlf_and_byte_order_mark(self):
        for name in ("merchant_center.tsv", "merchant_center.xml"):
            want, _, _, _ = self.run_import([fx(name)], [fx("segment_events.jsonl")])
            path = self.write("crlf/" + name, b"\xef\xbb\xbf" + fixture_bytes(name).replace(b"\n", b"\r\n"))
            got, _, _, _ = self.run_import([path], [fx("segment_events.jsonl")])
            with self.subTest(name):
                self.assertEqual(got, want)


class SegmentImport(Case):
    def test_with_shopify_catalog(self):
        _, rows, tally, _ = self.run_import([fx("shopify_products.csv")], [fx("segment_events.jsonl")])
        self.assertEqual(segment_table(rows), segment_expected("merino-crew-sock", "canvas-tote", "canvas-tote-1",
                                                               "enamel-camp-mug"))
        seg = fx("segment_events.jsonl")
        self.assertEqual({r["session"] for r in rows}, {""})  # sessions are cut later, by idle time
        self.assertEqual(tally["kept"], {"products": 4, "variants": 6, **SEGMENT_KEPT})
        # identify (line 14) and page (line 5) are ignored, as is Product Removed (line 10).
        self.assertEqual(tally["dropped"], {
            "page calls (not track events)": {"count": 1, "examples": []},
            "track events other than Product Viewed / Product Added / Order Completed": {"count": 1, "examples": []},
            "purchase events without product_id or sku": {"count": 1, "examples": [f"{seg}:11"]},
            "identify calls (not track events)": {"count": 1, "examples": []},
        })
        # A's order has a userId, but the visitor is the anonymousId throughout.
        self.assertEqual({r["visitor"] for r in rows if r["order"] == "6101234567893"}, {"segment:" + SEGMENT_A})
        self.assertEqual([r["event_id"] for r in rows if r["type"] == "purchase"],
                         ["ajs-next-1957387c1bc0004#0", "ajs-next-195738916010015#0", "ajs-next-195738916010015#1"])

    def test_without_a_catalog(self):
        products, rows, _, _ = self.run_import([], [fx("segment_events.jsonl")])
        self.assertEqual(segment_table(rows), segment_expected("8012345678901", "8012345678902", "8012345678903",
                                                               "8012345678904"))
        self.assertEqual([(p["id"], p["title"], p["category"], p["brand"], p["price"]) for p in products], [
            ("8012345678901", "Merino Crew Sock", "Socks", "Larkspur", 18.0),
            ("8012345678902", "Canvas Tote", "Bags", "Larkspur", 34.0),
            ("8012345678904", "Enamel Camp Mug", "Mugs", "Field & Flame", 16.0),
            ("8012345678903", "Canvas Tote", "Bags", "Larkspur", 36.0),
        ])

    def test_offset_timestamp_is_utc(self):
        # C's `timestamp` is Z; with only originalTimestamp (-05:00) the time is the same instant.
        lines = fixture_bytes("segment_events.jsonl").decode().splitlines(True)
        objs = [json.loads(line) for line in lines]
        for o in objs:
            if o["anonymousId"] == SEGMENT_C:
                del o["timestamp"]
        path = self.write("s.jsonl", "".join(json.dumps(o) + "\n" for o in objs))
        _, rows, _, _ = self.run_import([fx("shopify_products.csv")], [path])
        self.assertEqual(segment_table(rows), segment_expected("merino-crew-sock", "canvas-tote", "canvas-tote-1",
                                                               "enamel-camp-mug"))

    def test_lower_case_currency_and_a_foreign_price(self):
        data = fixture_bytes("segment_events.jsonl").decode().replace('"currency":"USD"', '"currency":"usd"')
        lines = data.splitlines(True)
        lines[12] = lines[12].replace('"currency":"usd"', '"currency":"EUR"')  # line 13: B views the tote
        path = self.write("s.jsonl", "".join(lines))
        _, rows, tally, _ = self.run_import([fx("merchant_center.xml")], [path])
        table = segment_table(rows)
        want = segment_expected("8012345678901", "LK-TOTE-NAT", "LK-TOTE-BLK", "LK-MUG-12")
        want = [w[:6] + ("", "EUR", "") if w[0] == 13 else w for w in want]
        self.assertEqual(table, want)
        self.assertEqual(tally["dropped"]["price in EUR, not the store's USD (event kept, price left out)"],
                         {"count": 1, "examples": [f"{path}:13"]})
        self.assertEqual(tally["kept"]["view events"], 6)


class GA4Import(Case):
    def test_without_a_catalog(self):
        products, rows, tally, _ = self.run_import([], [fx("ga4_events.jsonl")])
        self.assertEqual(ga4_table(rows), ga4_expected("LK-SOCK-M", "LK-TOTE-NAT", "LK-TOTE-BLK", "LK-MUG-12")[:5] + [
            (10, f"ga4:{GA4_A}.1741542930", "2025-03-09T17:58:02.114Z", "view", "LK-SOCK-S", "1", "18", ""),
            (11, f"ga4:{GA4_A}.1741542930", "2025-03-09T18:01:40.502Z", "cart", "LK-SOCK-L", "1", "18", ""),
            (12, f"ga4:{GA4_A}.1741542930", "2025-03-09T18:02:31.240Z", "cart", "LK-TOTE-BLK", "1", "36", ""),
            (14, f"ga4:{GA4_A}.1741542930", "2025-03-09T18:05:34.120Z", "purchase", "LK-SOCK-L", "1", "18", "#1003"),
            (14, f"ga4:{GA4_A}.1741542930", "2025-03-09T18:05:34.120Z", "purchase", "LK-TOTE-BLK", "1", "36", "#1003"),
        ])
        # `Field \u0026 Flame` in the JSON is "Field & Flame"; "(not set)" categories are left out.
        self.assertEqual({p["id"]: (p["title"], p["category"], p["brand"]) for p in products}, {
            "LK-SOCK-M": ("Merino Crew Sock", "Socks", "Larkspur"),
            "LK-SOCK-S": ("Merino Crew Sock", "Socks", "Larkspur"),
            "LK-SOCK-L": ("Merino Crew Sock", "Socks", "Larkspur"),
            "LK-TOTE-NAT": ("Canvas Tote", "Bags", "Larkspur"),
            "LK-TOTE-BLK": ("Canvas Tote", "Bags", "Larkspur"),
            "LK-MUG-12": ("Enamel Camp Mug", "Mugs", "Field & Flame"),
        })
        self.assertEqual(tally["kept"], {"view events": 3, "cart events": 4, "purchase events": 3})

    def test_escaped_ampersand_in_an_item_title(self):
        data = fixture_bytes("ga4_events.jsonl").decode()
        self.assertIn("\\u0026", data)
        data = data.replace('"item_name":"Enamel Camp Mug"', '"item_name":"Enamel Camp Mug \\u0026 Lid"')
        products, _, _, _ = self.run_import([], [self.write("g.jsonl", data)])
        self.assertEqual({p["id"]: p["title"] for p in products}["LK-MUG-12"], "Enamel Camp Mug & Lid")

    def test_with_shopify_catalog(self):
        _, rows, _, _ = self.run_import([fx("shopify_products_2025.csv")], [fx("ga4_events.jsonl")])
        self.assertEqual(ga4_table(rows), ga4_expected("merino-crew-sock", "canvas-tote", "canvas-tote-1",
                                                       "enamel-camp-mug"))

    def test_gzipped_daily_shards_in_a_folder(self):
        lines = fixture_bytes("ga4_events.jsonl").splitlines(True)
        self.write("ga4/events_20250308-000000000000.json.gz", gzip.compress(b"".join(lines[:4]), mtime=0))
        self.write("ga4/events_20250309-000000000000.json.gz", gzip.compress(b"".join(lines[4:]), mtime=0))
        self.write("ga4/.hidden.json", b"not json")
        folder = os.path.join(self.tmp, "ga4")
        kind, name, _ = detect(folder)
        self.assertEqual((kind, name), (EVENTS, "GA4 BigQuery export (JSON)"))
        _, rows, _, _ = self.run_import([fx("merchant_center.tsv")], [folder])
        want = ga4_expected("8012345678901", "LK-TOTE-NAT", "LK-TOTE-BLK", "LK-MUG-12")
        self.assertEqual([r[1:] for r in ga4_table(rows)], [w[1:] for w in want])
        self.assertEqual([r["source"] for r in rows][:3],
                         [os.path.join(folder, "events_20250308-000000000000.json.gz") + f":{n}" for n in (2, 3, 4)])
        self.assertEqual(rows[3]["source"], os.path.join(folder, "events_20250309-000000000000.json.gz") + ":2")


class Detection(Case):
    def test_each_fixture_is_recognised(self):
        want = {
            "shopify_products.csv": (CATALOG, "Shopify products CSV"),
            "shopify_products_2025.csv": (CATALOG, "Shopify products CSV"),
            "shopify_orders.csv": (EVENTS, "Shopify orders CSV"),
            "merchant_center.tsv": (CATALOG, "Merchant Center TSV feed"),
            "merchant_center.xml": (CATALOG, "Merchant Center XML feed"),
            "segment_events.jsonl": (EVENTS, "Segment / RudderStack track events"),
            "ga4_events.jsonl": (EVENTS, "GA4 BigQuery export (JSON)"),
        }
        for name, (kind, fmt) in want.items():
            with self.subTest(name):
                self.assertEqual(detect(fx(name))[:2], (kind, fmt))
                gz = self.write(name + ".gz", gzip.compress(fixture_bytes(name), mtime=0))
                self.assertEqual(detect(gz)[:2], (kind, fmt))

    def test_gzipped_fixtures_import_the_same(self):
        for catalog, events in (("shopify_products.csv", "shopify_orders.csv"), ("merchant_center.xml", "ga4_events.jsonl"),
                                ("merchant_center.tsv", "segment_events.jsonl")):
            want_p, want_e, _, _ = self.run_import([fx(catalog)], [fx(events)])
            c = self.write(catalog, gzip.compress(fixture_bytes(catalog), mtime=0))  # gzip whatever the name
            e = self.write(events + ".gz", gzip.compress(fixture_bytes(events), mtime=0))
            got_p, got_e, _, _ = self.run_import([c], [e])
            with self.subTest(catalog):
                self.assertEqual(got_p, want_p)
                self.assertEqual(events_table(got_e), events_table(want_e))

    def test_a_file_given_as_the_wrong_kind(self):
        e = self.refused([fx("segment_events.jsonl")], [fx("shopify_orders.csv")])
        self.assertProblem(e, "UNKNOWN_FORMAT", fx("segment_events.jsonl"), None, None)
        e = self.refused([fx("shopify_products.csv")], [fx("merchant_center.xml")])
        self.assertProblem(e, "UNKNOWN_FORMAT", fx("merchant_center.xml"), None, None)

    def test_nothing_kept(self):
        e = self.refused([fx("shopify_products.csv")], [self.write("o.csv", fixture_bytes("shopify_orders.csv")
                                                                   .split(b"\n", 1)[0] + b"\n")])
        self.assertEqual(e.code, "NO_DATA")


# ---------------------------------------------------------------------------------------------
# 2. Bad input: located refusals, and what is counted instead of refused.
# ---------------------------------------------------------------------------------------------

class Refusals(Case):
    def orders_with(self, old, new, count=1):
        data = fixture_bytes("shopify_orders.csv").decode()
        self.assertIn(old, data)
        return self.write("orders.csv", data.replace(old, new, count))

    def products_with(self, old, new, name="shopify_products.csv"):
        data = fixture_bytes(name).decode()
        self.assertIn(old, data)
        return self.write("products.csv", data.replace(old, new, 1))

    def test_missing_column(self):
        path = self.orders_with(",Created at,", ",Created,")
        self.assertProblem(self.refused([fx("shopify_products.csv")], [path]), "MISSING_COLUMN", path, 1, None)
        path = self.orders_with(",Lineitem price,", ",Lineitem cost,")
        e = self.refused([fx("shopify_products.csv")], [path])
        self.assertProblem(e, "MISSING_COLUMN", path, 1, None)
        self.assertIn("Lineitem price", e.message)
        catalog = self.write("catalog.csv", "name,price\nMug,16.00\n")  # a catalog CSV without an id column
        self.assertProblem(self.refused([catalog], [fx("segment_events.jsonl")]), "MISSING_COLUMN", catalog, 1, None)

    def test_plain_events_csv_without_session_visitor_or_order(self):
        path = self.write("events.csv", "time,item,type\n2025-03-09T10:00:00Z,LK-MUG-12,view\n")
        e = self.refused([], [path])
        self.assertProblem(e, "MISSING_COLUMN", path, 1, None)

    def test_wrong_delimiter(self):
        orders = fixture_bytes("shopify_orders.csv")
        for delimiter in (b";", b"\t"):
            path = self.write(f"orders{delimiter!r}.csv", orders.replace(b",", delimiter))
            with self.subTest(delimiter=delimiter):
                self.assertProblem(self.refused([fx("shopify_products.csv")], [path]), "WRONG_DELIMITER", path, 1, 1)
        path = self.write("products-tab.csv", fixture_bytes("shopify_products.csv").replace(b",", b"\t"))
        self.assertProblem(self.refused([path], [fx("shopify_orders.csv")]), "WRONG_DELIMITER", path, 1, 1)
        path = self.write("events-semicolon.csv", "time;visitor;item;type\n2025-03-09T10:00:00Z;v1;LK-MUG-12;view\n")
        self.assertProblem(self.refused([], [path]), "WRONG_DELIMITER", path, 1, 1)

    def test_wrong_delimiter_in_a_catalog(self):
        path = self.write("products-semicolon.csv", fixture_bytes("shopify_products.csv").replace(b",", b";"))
        self.assertProblem(self.refused([path], [fx("shopify_orders.csv")]), "WRONG_DELIMITER", path, 1, 1)

    def test_header_as_data(self):
        path = self.write("events.csv", "2025-03-09T10:00:00Z,v1,LK-MUG-12,view\n2025-03-09T10:01:00Z,v1,LK-SOCK-S,view\n")
        self.assertProblem(self.refused([], [path]), "HEADER_AS_DATA", path, 1, 1)

    def test_header_as_data_shopify_orders(self):
        path = self.write("orders.csv", fixture_bytes("shopify_orders.csv").split(b"\n", 1)[1])
        self.assertProblem(self.refused([fx("shopify_products.csv")], [path]), "HEADER_AS_DATA", path, 1, 1)

    def test_header_as_data_catalog(self):
        path = self.write("products.csv", fixture_bytes("shopify_products.csv").split(b"\n", 1)[1])
        self.assertProblem(self.refused([path], [fx("shopify_orders.csv")]), "HEADER_AS_DATA", path, 1, 1)

    def test_bad_time(self):
        path = self.orders_with("2025-03-09 14:05:33 -0400,1,Merino", "9 March 2025 2:05 PM,1,Merino")
        self.assertProblem(self.refused([fx("shopify_products.csv")], [path]), "BAD_TIME", path, 4, 16)
        # The first row of an order is the one read: #1001 starts on line 9.
        path = self.orders_with("2025-03-07 09:12:44 -0500,2,", "2025-03-07 25:12:44 -0500,2,")
        self.assertProblem(self.refused([fx("shopify_products.csv")], [path]), "BAD_TIME", path, 9, 16)
        events = self.write("events.csv", "visitor,item,time\nv1,LK-MUG-12,2025-03-09T10:00:00Z\nv1,LK-MUG-12,soon\n")
        self.assertProblem(self.refused([], [events]), "BAD_TIME", events, 3, 3)
        seg = fixture_bytes("segment_events.jsonl").decode().splitlines(True)
        seg[2] = seg[2].replace('"timestamp":"2025-03-09T03:31:10.402Z"', '"timestamp":"last Saturday"')
        path = self.write("s.jsonl", "".join(seg))
        e = self.refused([], [path])
        self.assertProblem(e, "BAD_TIME", path, 3, None)
        self.assertIn("timestamp", e.message)
        ga = fixture_bytes("ga4_events.jsonl").decode().splitlines(True)
        ga[5] = ga[5].replace('"event_timestamp":"1741525841730000"', '"event_timestamp":"17415"')
        path = self.write("g.jsonl", "".join(ga))
        self.assertProblem(self.refused([], [path]), "BAD_TIME", path, 6, None)

    def test_bad_number(self):
        cases = [
            # (file, old, new, line, column)
            ("shopify_products.csv", ",LK-SOCK-M,90,shopify,0,deny,manual,18.00,",
             ",LK-SOCK-M,90,shopify,0,deny,manual,eighteen,", 7, 24),
            ("shopify_products.csv", ",LK-MUG-12,280,shopify,40,deny,manual,16.00,",
             ",LK-MUG-12,280,shopify,40,deny,manual,-16.00,", 12, 24),
            ("shopify_products_2025.csv", ",,,,,,,,36.00,,12.50,", ",,,,,,,,-36.00,,12.50,", 11, 21),
            ("merchant_center.tsv", "\t34.00 USD\t", "\tthirty-four USD\t", 5, 10),
            ("merchant_center.tsv", "\t22.00 USD\t18.00 USD\t", "\t22.00 USD\t-18.00 USD\t", 2, 11),
        ]
        for name, old, new, line, column in cases:
            with self.subTest(name=name, new=new):
                path = self.products_with(old, new, name)
                events = fx("segment_events.jsonl")
                self.assertProblem(self.refused([path], [events]), "BAD_NUMBER", path, line, column)
        path = self.orders_with(",Canvas Tote,34.00,", ",Canvas Tote,-34.00,")
        self.assertProblem(self.refused([fx("shopify_products.csv")], [path]), "BAD_NUMBER", path, 6, 19)
        path = self.orders_with(",1,Canvas Tote,36.00,", ",one,Canvas Tote,36.00,")
        self.assertProblem(self.refused([fx("shopify_products.csv")], [path]), "BAD_NUMBER", path, 5, 17)
        seg = fixture_bytes("segment_events.jsonl").decode().replace('"price":16,', '"price":"sixteen",', 1)
        path = self.write("s.jsonl", seg)
        e = self.refused([], [path])
        self.assertProblem(e, "BAD_NUMBER", path, 6, None)
        self.assertIn("properties.price", e.message)

    def test_bad_compare_at_price_column(self):
        path = self.products_with(",18.00,22.00,TRUE,TRUE,0840123400011,", ",18.00,abc,TRUE,TRUE,0840123400011,")
        self.assertProblem(self.refused([path], [fx("shopify_orders.csv")]), "BAD_NUMBER", path, 2, 25)

    def test_bad_number_in_xml(self):
        data = fixture_bytes("merchant_center.xml").decode().replace("<g:price>34.00 USD", "<g:price>-34.00 USD")
        path = self.write("m.xml", data)
        e = self.refused([path], [fx("segment_events.jsonl")])
        self.assertEqual((e.code, e.path), ("BAD_NUMBER", path))
        self.assertIn("LK-TOTE-NAT", e.message)

    def test_bad_number_in_xml_has_a_line(self):
        data = fixture_bytes("merchant_center.xml").decode().replace("<g:price>34.00 USD", "<g:price>-34.00 USD")
        path = self.write("m.xml", data)
        e = self.refused([path], [fx("segment_events.jsonl")])
        self.assertIsNotNone(e.line)

    def test_negative_or_nan_price_in_json_events(self):
        # As values.price does for the CSV/XML formats (NaN as a string is how BigQuery writes FLOAT64).
        seg = fixture_bytes("segment_events.jsonl").decode().replace('"price":16,', '"price":-16,', 1)
        path = self.write("s.jsonl", seg)
        self.assertProblem(self.refused([], [path]), "BAD_NUMBER", path, 6, None)
        ga = fixture_bytes("ga4_events.jsonl").decode().replace('"price":16.0,', '"price":"NaN",', 1)
        path = self.write("g.jsonl", ga)
        self.assertProblem(self.refused([], [path]), "BAD_NUMBER", path, 6, None)

    def test_unclosed_quote(self):
        # #1001's first line item name opens a quote that never closes: the row starts on line 9.
        path = self.orders_with(",Merino Crew Sock - M,", ',"Merino Crew Sock - M,')
        self.assertProblem(self.refused([fx("shopify_products.csv")], [path]), "BAD_ROW", path, 9, None)
        path = self.products_with(",<p>12 oz enamelled", ',"<p>12 oz enamelled')
        self.assertProblem(self.refused([path], [fx("shopify_orders.csv")]), "BAD_ROW", path, 12, None)

    def test_row_longer_than_the_header(self):
        data = fixture_bytes("shopify_products.csv").decode().replace(",5.10,TRUE,,,TRUE,19.00,,active",
                                                                      ",5.10,TRUE,,,TRUE,19.00,,active,surplus")
        path = self.write("p.csv", data)
        self.assertProblem(self.refused([path], [fx("shopify_orders.csv")]), "BAD_ROW", path, 12, 58)

    def test_bad_json(self):
        lines = fixture_bytes("segment_events.jsonl").decode().splitlines(True)
        lines[2] = '{"type":"track","event":"Product Viewed" "anonymousId":"v"}\n'
        path = self.write("s.jsonl", "".join(lines))
        e = self.refused([], [path])
        self.assertProblem(e, "BAD_JSON", path, 3, 42)
        lines[2] = "[1, 2]\n"
        path = self.write("s2.jsonl", "".join(lines))
        self.assertProblem(self.refused([], [path]), "BAD_JSON", path, 3, 1)
        ga = fixture_bytes("ga4_events.jsonl").decode().splitlines(True)
        ga[0] = ga[0][:100] + "\n"  # a line cut short inside "event_params": the first line is checked by detect
        self.assertEqual(ga[0][87:100], '"event_params')
        path = self.write("g.jsonl", "".join(ga))
        # "Unterminated string starting at" column 88.
        self.assertProblem(self.refused([], [path]), "BAD_JSON", path, 1, 88)

    def test_bad_xml(self):
        data = fixture_bytes("merchant_center.xml").decode()
        path = self.write("m.xml", data.replace("</item>", "</itm>", 1))
        self.assertProblem(self.refused([path], [fx("segment_events.jsonl")]), "BAD_XML", path, 29, 3)
        # A bare & on line 119 (<g:brand>Field &amp; Flame</g:brand>).
        self.assertEqual(data.splitlines()[118], "<g:brand>Field &amp; Flame</g:brand>")
        path = self.write("m2.xml", data.replace("<g:brand>Field &amp; Flame", "<g:brand>Field & Flame"))
        e = self.refused([path], [fx("segment_events.jsonl")])
        self.assertEqual((e.code, e.line), ("BAD_XML", 119))
        path = self.write("m3.xml", data[:3000])
        e = self.refused([path], [fx("segment_events.jsonl")])
        self.assertEqual(e.code, "BAD_XML")
        self.assertIsNotNone(e.line)

    def test_empty_file(self):
        for name in ("empty.csv", "empty.jsonl", "empty.xml"):
            path = self.write(name, b"")
            with self.subTest(name):
                self.assertProblem(self.refused([], [path]), "EMPTY_FILE", path, 1, None)
        os.makedirs(os.path.join(self.tmp, "nothing"))
        e = self.refused([], [os.path.join(self.tmp, "nothing")])
        self.assertEqual(e.code, "EMPTY_FILE")
        e = self.refused([], [os.path.join(self.tmp, "absent.csv")])
        self.assertEqual(e.code, "EMPTY_FILE")

    def test_not_utf8_beyond_the_first_block(self):
        rows = "".join(f"v{i},LK-MUG-12,2025-03-09T10:{i % 60:02}:00Z\n" for i in range(600))
        data = ("visitor,item,time\n" + rows).encode() + "v1,Caf\u00e9,2025-03-09T10:00:00Z\n".encode("cp1252")
        path = self.write("events.csv", data)
        e = self.refused([], [path])
        self.assertEqual((e.code, e.path), ("NOT_UTF8", path))

    def test_not_utf8(self):
        data = fixture_bytes("shopify_orders.csv").replace(b"Maya Rivera", "Mar\u00eda Rivera".encode("cp1252"))
        path = self.write("orders.csv", data)
        e = self.refused([fx("shopify_products.csv")], [path])
        self.assertEqual((e.code, e.path), ("NOT_UTF8", path))


class Counted(Case):
    def test_order_line_not_in_the_catalog(self):
        # The gift wrap line (no SKU, a title no product has) is counted with its place.
        _, rows, tally, _ = self.run_import([fx("shopify_products.csv")], [fx("shopify_orders.csv")])
        self.assertEqual(tally["dropped"]["purchase of an item not in the catalog"],
                         {"count": 1, "examples": [fx("shopify_orders.csv") + ":8"]})
        self.assertNotIn(8, lines_of(rows))

    def test_price_in_another_currency(self):
        data = fixture_bytes("shopify_orders.csv").decode()
        old = "#1001,maya.r@example.com,paid,2025-03-07 09:12:46 -0500,fulfilled,2025-03-07 16:40:12 -0500,no,USD,"
        self.assertIn(old, data)
        path = self.write("orders.csv", data.replace(old, old.replace(",USD,", ",CAD,")))
        _, rows, tally, _ = self.run_import([fx("shopify_products.csv")], [path])
        self.assertEqual(len(rows), 6)
        self.assertEqual([(r["order"], r["price"]) for r in rows if r["order"] == "#1001"], [("#1001", ""), ("#1001", "")])
        self.assertEqual([r["price"] for r in rows if r["order"] != "#1001"], ["16", "18", "36", "34"])
        self.assertEqual(tally["dropped"]["price in CAD, not the store's USD (event kept, price left out)"],
                         {"count": 2, "examples": [f"{path}:9", f"{path}:10"]})

    def test_duplicated_segment_message(self):
        lines = fixture_bytes("segment_events.jsonl").splitlines(True)
        path = self.write("s.jsonl", b"".join(lines) + lines[6])  # line 7 again, as line 16
        _, rows, _, out = self.run_import([fx("shopify_products.csv")], [path])
        self.assertEqual(len(rows), 14)
        split = sessions.split_sessions(os.path.join(out, "events.csv"), os.path.join(out, "split"), threads=1)
        self.assertEqual((split.events, split.duplicates, split.duplicate_examples), (14, 1, [f"{path}:16"]))
        self.assertEqual(split.types, {"cart": 4, "purchase": 3, "view": 6})

    def test_orders_file_given_twice(self):
        first = fx("shopify_orders.csv")
        second = self.write("orders-again.csv", fixture_bytes("shopify_orders.csv"))
        _, rows, tally, out = self.run_import([fx("shopify_products.csv")], [first, second])
        self.assertEqual(len(rows), 12)
        split = sessions.split_sessions(os.path.join(out, "events.csv"), os.path.join(out, "split"), threads=1)
        self.assertEqual((split.events, split.duplicates), (12, 6))
        self.assertEqual(split.duplicate_examples, [f"{second}:2", f"{second}:4", f"{second}:5"])
        self.assertEqual((split.orders, split.multi_item_orders), (4, 2))
        with open(split.paths["all_orders"]) as f:
            self.assertEqual(f.read().splitlines(), ["enamel-camp-mug merino-crew-sock", "canvas-tote",
                                                     "canvas-tote-1 merino-crew-sock", "enamel-camp-mug"])

    def test_ga4_rows_exported_twice(self):
        data = fixture_bytes("ga4_events.jsonl")
        self.write("ga4/a.json.gz", gzip.compress(data, mtime=0))
        self.write("ga4/b.json.gz", gzip.compress(data, mtime=0))
        _, rows, _, out = self.run_import([], [os.path.join(self.tmp, "ga4")])
        split = sessions.split_sessions(os.path.join(out, "events.csv"), os.path.join(out, "split"), threads=1)
        self.assertEqual((split.events, split.duplicates), (20, 10))


# ---------------------------------------------------------------------------------------------
# split_sessions: idle cuts, the time split.
# ---------------------------------------------------------------------------------------------

def segment_call(visitor, n, when, event, sku, **extra):
    return json.dumps({"type": "track", "event": event, "anonymousId": visitor, "messageId": f"m-{visitor}-{n}",
                       "timestamp": when, "properties": {"sku": sku, "price": 10, "currency": "USD", **extra}}) + "\n"


class Sessions(Case):
    def split(self, events_csv, **kw):
        return sessions.split_sessions(events_csv, self.out_dir(), threads=1, **kw)

    def read(self, split, name):
        with open(split.paths[name]) as f:
            return f.read().splitlines()

    def test_segment_visitors_cut_after_30_idle_minutes(self):
        calls = [
            segment_call("x", 1, "2025-03-09T10:00:00Z", "Product Viewed", "LK-SOCK-S"),
            segment_call("y", 1, "2025-03-09T10:05:00.000Z", "Product Viewed", "LK-TOTE-NAT"),
            segment_call("x", 2, "2025-03-09T10:30:00Z", "Product Viewed", "LK-MUG-12"),  # 30:00 idle: same session
            segment_call("x", 3, "2025-03-09T11:00:01Z", "Product Viewed", "LK-TOTE-NAT"),  # 30:01 idle: a new one
            segment_call("y", 2, "2025-03-09T10:06:00Z", "Product Added", "LK-MUG-12", quantity=1),
            segment_call("x", 4, "2025-03-09T11:05:00Z", "Product Added", "LK-TOTE-BLK", quantity=1),
            segment_call("x", 5, "2025-03-09T06:04:00-05:00", "Product Viewed", "LK-SOCK-L"),  # 11:04 UTC, out of order
        ]
        path = self.write("s.jsonl", "".join(calls))
        _, rows, _, out = self.run_import([fx("shopify_products.csv")], [path])
        split = self.split(os.path.join(out, "events.csv"))
        self.assertEqual(self.read(split, "all_sessions"), [
            "merino-crew-sock enamel-camp-mug",  # x, 10:00
            "canvas-tote enamel-camp-mug",  # y, 10:05
            "canvas-tote merino-crew-sock canvas-tote-1",  # x, 11:00:01 (the sock at 11:04 UTC)
        ])
        self.assertEqual(split.types, {"cart": 2, "view": 5})

    def test_plain_csv_visitors_and_sessions(self):
        path = self.write("events.csv", "\n".join([
            "session,visitor,time,item,type",
            ",v1,2025-01-01T00:00:00Z,a,view",
            ",v1,2025-01-01T00:31:00Z,b,view",  # 31 idle minutes: v1's second session
            "s9,v1,2025-01-01T00:32:00Z,c,view",  # an explicit session is never cut
            "s9,v1,2025-01-01T05:00:00Z,d,view",
            ",v2,2025-01-01T00:10:00Z,a,view",
            ",v2,2025-01-01T00:20:00Z,a,cart",
        ]) + "\n")
        _, _, _, out = self.run_import([], [path])
        split = self.split(os.path.join(out, "events.csv"))
        self.assertEqual(self.read(split, "all_sessions"), ["a", "a", "b", "c d"])

    def test_time_split(self):
        day = lambda n, h=0: (dt.datetime(2025, 1, 1, tzinfo=UTC) + dt.timedelta(days=n, hours=h)).strftime(  # noqa: E731
            "%Y-%m-%dT%H:%M:%SZ")
        sessions_ = [("s1", 0, "a b"), ("s2", 10, "b c"), ("s3", 50, "a c"), ("s4", 95, "a b x"),
                     ("s5", 99, "c d"), ("s6", 100, "a")]
        lines = ["session,time,item,type"]
        for sid, d, items in sessions_:
            for h, item in enumerate(items.split()):
                lines.append(f"{sid},{day(d, h)},{item},view")
        _, _, _, out = self.run_import([], [self.write("events.csv", "\n".join(lines) + "\n")])
        events_csv = os.path.join(out, "events.csv")
        # 100 days ≥ 10 weeks: the last 2 weeks (from day 86, 28 March) are the test period.
        split = self.split(events_csv)
        self.assertEqual(split.test_from, "2025-03-28 00:00:00")
        self.assertEqual((split.first, split.last), ("2025-01-01 00:00:00", "2025-04-11 00:00:00"))
        self.assertEqual(self.read(split, "train_sessions"), ["a b", "b c", "a c"])
        self.assertEqual(self.read(split, "test_sessions"), ["a b"])  # s4 less x; s5 and s6 have < 2 known items
        self.assertEqual((split.train_sessions, split.test_sessions, split.test_cases, split.test_items_unseen,
                          split.items), (3, 1, 1, 2, 3))
        # test_days=60: from day 40.
        split = self.split(events_csv, test_days=60)
        self.assertEqual(self.read(split, "train_sessions"), ["a b", "b c"])
        self.assertEqual(self.read(split, "test_sessions"), ["a c", "a b"])
        self.assertEqual((split.test_sessions, split.test_cases), (2, 2))

    def test_window(self):
        first = dt.datetime(2025, 1, 1, tzinfo=UTC)
        self.assertEqual(sessions.test_window(first, first + dt.timedelta(days=20), 0),
                         first + dt.timedelta(days=17))  # under 10 weeks: the last 15 %
        self.assertEqual(sessions.test_window(first, first + dt.timedelta(weeks=10), 0),
                         first + dt.timedelta(weeks=8))
        self.assertEqual(sessions.test_window(first, first + dt.timedelta(days=20), 5), first + dt.timedelta(days=15))

    def test_split_times_do_not_depend_on_the_local_time_zone(self):
        _, _, _, out = self.run_import([fx("shopify_products.csv")], [fx("segment_events.jsonl")])
        code = ("import sys; sys.path.insert(0, sys.argv[1]); from edgerec_train.sessions import split_sessions; "
                "s = split_sessions(sys.argv[2], sys.argv[3], threads=1); print(s.first)")
        env = dict(os.environ, TZ="America/New_York")
        first = subprocess.run([sys.executable, "-c", code, HERE, os.path.join(out, "events.csv"),
                                os.path.join(out, "split")], env=env, capture_output=True, text=True, check=True)
        self.assertEqual(first.stdout.strip(), "2025-03-09 03:31:10")


# ---------------------------------------------------------------------------------------------
# 3. values.timestamp / values.price / values.quantity.
# ---------------------------------------------------------------------------------------------

class Values(unittest.TestCase):
    def test_timestamp(self):
        t = utc(2025, 3, 9, 18, 5, 34, 120000)
        cases = {
            "2025-03-09T18:05:34.120Z": t,
            "2025-03-09T18:05:34.120z": t,
            "2025-03-09T18:05:34.120+00:00": t,
            "2025-03-09T14:05:34.120-04:00": t,
            "2025-03-09T23:35:34.120+05:30": t,
            "2025-03-09 18:05:34.120 UTC": t,
            "  2025-03-09T18:05:34.120Z\n": t,
            "2025-03-09T18:05:34.120": t,  # no offset: UTC
            "1741543534.12": t,  # Unix seconds
            "1741543534120": t,  # ms
            "1741543534120000": t,  # µs (GA4)
            "1741543534120000000": t,  # ns
            "1741543534": utc(2025, 3, 9, 18, 5, 34),
            # Shopify's export form, on both sides of a DST change.
            "2024-03-10 14:05:33 -0400": utc(2024, 3, 10, 18, 5, 33),
            "2024-03-10 01:05:33 -0500": utc(2024, 3, 10, 6, 5, 33),
            "2025-03-08 22:40:05 -0500": utc(2025, 3, 9, 3, 40, 5),
            "2025-03-09 14:05:33 -04:00": utc(2025, 3, 9, 18, 5, 33),
            "2025-03-09T14:05:33-0400": utc(2025, 3, 9, 18, 5, 33),
            "2025-03-09 14:05 -0400": utc(2025, 3, 9, 18, 5),
            "12/1/2010 8:26": utc(2010, 12, 1, 8, 26),
            "3/9/2025 18:05:34": utc(2025, 3, 9, 18, 5, 34),
            "2025-03-09": utc(2025, 3, 9),
        }
        for text, want in cases.items():
            with self.subTest(text=text):
                self.assertAlmostEqual(values.timestamp(text), want, places=3)

    def test_timestamp_default_zone(self):
        try:
            from zoneinfo import ZoneInfo
            ny = ZoneInfo("America/New_York")
        except Exception:  # no tz database
            self.skipTest("no zoneinfo database")
        self.assertEqual(values.timestamp("2025-03-08 22:40:05", ny), utc(2025, 3, 9, 3, 40, 5))
        self.assertEqual(values.timestamp("2025-03-09 14:05:33", ny), utc(2025, 3, 9, 18, 5, 33))
        self.assertEqual(values.timestamp("2025-03-09 14:05:33 -0400", ny), utc(2025, 3, 9, 18, 5, 33))

    def test_timestamp_rejects(self):
        for text in ("", "   ", "yesterday", "2025-02-30T00:00:00Z", "2025-03-09T25:00:00Z", "2025-13-01",
                     "0", "86400", "-1741543534", "1e20", "1e400", "nan", "inf", "1900-01-01T00:00:00Z",
                     "2101-01-01T00:00:00Z", "2025-03-09 14:05:33 EST", "1741543534 s", "13/45/2025 10:00"):
            with self.subTest(text=text):
                with self.assertRaises(ValueError):
                    values.timestamp(text)

    def test_price(self):
        cases = {
            "19.99": (19.99, None),
            "19.99 USD": (19.99, "USD"),
            "USD 19.99": (19.99, "USD"),
            " 22.00 USD ": (22.0, "USD"),
            "1,299.00": (1299.0, None),
            "1,299.00 EUR": (1299.0, "EUR"),
            "12,345,678.5": (12345678.5, None),
            "£19.99": (19.99, "GBP"),
            "€5": (5.0, "EUR"),
            "$5.00": (5.0, None),
            "0": (0.0, None),
            "0.00 USD": (0.0, "USD"),
            ".5": (0.5, None),
            "": (None, None),
            "  ": (None, None),
        }
        for text, want in cases.items():
            with self.subTest(text=text):
                self.assertEqual(values.price(text), want)

    def test_price_rejects(self):
        for text in ("abc", "-5", "-5.00 USD", "USD -5", "19,99", "1,29,000", "19.99 dollars", "1e400", "inf", "nan",
                     "5 USD EUR", "five", "$", "19.99USD", "--1", "1.2.3"):
            with self.subTest(text=text):
                with self.assertRaises(ValueError):
                    values.price(text)

    def test_quantity(self):
        self.assertEqual(values.quantity("3"), 3)
        self.assertEqual(values.quantity(" 2.0 "), 2)
        self.assertEqual(values.quantity(""), 1)
        self.assertEqual(values.quantity("", default=0), 0)
        self.assertEqual(values.quantity(4), 4)
        for text in ("1.5", "x", "inf", "nan", "2 pcs"):
            with self.subTest(text=text):
                with self.assertRaises(ValueError):
                    values.quantity(text)

    def test_quantity_overflow(self):
        with self.assertRaises(ValueError):
            values.quantity("1e400")


class Crashes(Case):
    """Inputs that end the import with an exception other than ImportProblem (each a bug)."""

    def no_crash(self, catalogs, events):
        try:
            import_exports(catalogs, events, self.out_dir(), log=quiet)
        except ImportProblem:
            pass

    def test_huge_quantity_in_shopify_orders(self):
        data = fixture_bytes("shopify_orders.csv").replace(b",2,Enamel Camp Mug,", b",1e400,Enamel Camp Mug,", 1)
        self.no_crash([fx("shopify_products.csv")], [self.write("o.csv", data)])

    def test_infinite_quantity_in_ga4(self):
        data = fixture_bytes("ga4_events.jsonl").replace(b'"quantity":"2"', b'"quantity":"inf"', 1)
        self.no_crash([], [self.write("g.jsonl", data)])

    def test_ga4_fields_of_the_wrong_json_type(self):
        row = json.loads(fixture_bytes("ga4_events.jsonl").splitlines()[1])
        for field, value in (("ecommerce", []), ("event_params", 5)):
            with self.subTest(field=field):
                bad = dict(row, **{field: value})
                self.no_crash([], [self.write(f"g-{field}.jsonl", json.dumps(bad) + "\n")])
        bad = json.loads(json.dumps(row))
        bad["event_params"][0]["value"] = "1741491061"
        self.no_crash([], [self.write("g-value.jsonl", json.dumps(bad) + "\n")])

    def test_corrupt_gzip(self):
        flipped = bytearray(gzip.compress(fixture_bytes("shopify_products.csv"), mtime=0))
        flipped[12] ^= 0x55
        self.no_crash([self.write("p.csv.gz", bytes(flipped))], [fx("shopify_orders.csv")])

    def test_truncated_gzip_xml(self):
        gz = gzip.compress(fixture_bytes("merchant_center.xml"), mtime=0)
        self.no_crash([self.write("m.xml.gz", gz[: len(gz) // 2])], [fx("segment_events.jsonl")])

    def test_gzip_files_are_closed(self):
        path = self.write("g.json.gz", gzip.compress(fixture_bytes("ga4_events.jsonl"), mtime=0))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            import_exports([], [path], self.out_dir(), log=quiet)
            import gc
            gc.collect()
        self.assertEqual([str(w.message) for w in caught if issubclass(w.category, ResourceWarning)], [])

    def test_truncated_gzip_csv_is_refused(self):
        gz = gzip.compress(fixture_bytes("shopify_orders.csv"), mtime=0)
        path = self.write("o.csv.gz", gz[: len(gz) // 2])
        e = self.refused([fx("shopify_products.csv")], [path])
        self.assertEqual(e.path, path)


# ---------------------------------------------------------------------------------------------
# 4. Fuzz: seeded mutations of each fixture; only ImportProblem may end an import.
# ---------------------------------------------------------------------------------------------

FUZZ_CASES = 150
# A fixture is imported with a partner of the other kind (so its events resolve or its catalog serves).
PARTNER = {CATALOG: "segment_events.jsonl", EVENTS: "shopify_products.csv"}
FUZZ_FILES = ["shopify_products.csv", "shopify_products_2025.csv", "shopify_orders.csv", "merchant_center.tsv",
              "merchant_center.xml", "segment_events.jsonl", "ga4_events.jsonl"]


def _lines(data):
    return data.splitlines(True) or [b""]


def m_flip(rng, data):
    b = bytearray(data)
    spots = []
    for _ in range(rng.randint(1, 8)):
        if not b:
            break
        i, x = rng.randrange(len(b)), rng.randint(1, 255)
        b[i] ^= x
        spots.append(f"{i}^{x:#x}")
    return bytes(b), "flip " + ",".join(spots)


def m_truncate(rng, data):
    i = rng.randrange(len(data) + 1)
    return data[:i], f"truncate at {i}"


def m_dup_line(rng, data):
    lines = _lines(data)
    k = rng.randrange(len(lines))
    return b"".join(lines[: k + 1] + lines[k:]), f"duplicate line {k + 1}"


def m_del_line(rng, data):
    lines = _lines(data)
    k = rng.randrange(len(lines))
    return b"".join(lines[:k] + lines[k + 1:]), f"delete line {k + 1}"


def m_quote(rng, data):
    i = rng.randrange(len(data) + 1)
    q = rng.choice([b'"', b"'", b'""'])
    return data[:i] + q + data[i:], f"insert {q!r} at {i}"


def m_delimiter(rng, data):
    a, b = rng.choice([(b",", b";"), (b",", b"\t"), (b"\t", b","), (b"\t", b";"), (b",", b"|")])
    if rng.random() < 0.5:
        return data.replace(a, b), f"replace all {a!r} with {b!r}"
    lines = _lines(data)
    k = rng.randrange(len(lines))
    lines[k] = lines[k].replace(a, b)
    return b"".join(lines), f"replace {a!r} with {b!r} on line {k + 1}"


def m_insert(rng, data):
    i, n = rng.randrange(len(data) + 1), rng.randint(1, 16)
    return data[:i] + rng.randbytes(n) + data[i:], f"insert {n} random bytes at {i}"


def m_gzip(rng, data):
    return gzip.compress(data, mtime=0), "gzip"


def m_crlf_bom(rng, data):
    return b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"), "CRLF + BOM"


MUTATIONS = [m_flip, m_truncate, m_dup_line, m_del_line, m_quote, m_delimiter, m_insert, m_gzip, m_crlf_bom]
# After gzip, only whole-file edits make sense; byte edits of the compressed stream are the
# corrupt-gzip case, fuzzed separately (FuzzCorruptGzip).
TEXT_MUTATIONS = [m for m in MUTATIONS if m is not m_gzip]


def mutate(name, i, corrupt_gzip=False):
    """(bytes, description) of mutation case i of fixture `name`: 1-3 text mutations, then
    (a quarter of the time) gzip; with corrupt_gzip, a gzip then a flip, truncation or insert."""
    seed = f"{name}:{i}:{'gz' if corrupt_gzip else 'txt'}"
    rng = random.Random(seed)
    data, steps = fixture_bytes(name), []
    for _ in range(rng.randint(1, 3)):
        data, what = rng.choice(TEXT_MUTATIONS)(rng, data)
        steps.append(what)
    if corrupt_gzip:
        data, what = m_gzip(rng, data)
        steps.append(what)
        data, what = rng.choice([m_flip, m_truncate, m_insert])(rng, data)
        steps.append(what)
    elif rng.random() < 0.25:
        data, what = m_gzip(rng, data)
        steps.append(what)
    return data, seed, steps


NASTY_TEXT = ["", " ", "-1", "0", "-0", "1e400", "-1e400", "NaN", "inf", "1.5", "1,5", "9" * 40, "0x10", "\u0663",
              "2025-13-45 25:61:61 -0400", "\x00", '"', "'", "\t", "\n", "\u00e9", "\U0001f642", "USD", "12 USD EUR",
              "(not set)", "null", "true", "DENY", "draft", "#1001", "LK-MUG-12", "Canvas Tote", "-5.00 USD"]
NASTY_JSON = [None, True, False, 0, -1, 1.5, 1e308, -1e308, 10 ** 30, float("nan"), float("inf"), "", "NaN", "inf",
              "-1", "1e400", "0", [], {}, [1], {"a": 1}, [[]], "x", "2025-03-09", "LK-MUG-12"]


def _json_paths(obj, path=()):
    yield path
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _json_paths(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _json_paths(v, path + (i,))


def v_json(rng, data):
    """A random value somewhere in a random JSON line replaced by one of another type (or removed)."""
    lines = _lines(data)
    k = rng.randrange(len(lines))
    try:
        obj = json.loads(lines[k])
    except ValueError:
        return data, f"line {k + 1} is not JSON: unchanged"
    paths = [p for p in _json_paths(obj) if p]
    if not paths:
        return data, f"line {k + 1} has no fields: unchanged"
    path = rng.choice(paths)
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and rng.random() < 0.15:
        del parent[path[-1]]
        what = "deleted"
    else:
        parent[path[-1]] = rng.choice(NASTY_JSON)
        what = f"= {json.dumps(parent[path[-1]])}"
    lines[k] = (json.dumps(obj) + "\n").encode()
    return b"".join(lines), f"line {k + 1} {'/'.join(map(str, path))} {what}"


def v_table(rng, data, delimiter):
    """A random field of a CSV/TSV set to a nasty value (the header 1 time in 10)."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter))
    r = 0 if rng.random() < 0.1 else rng.randrange(1, len(rows))
    c = rng.randrange(len(rows[r]))
    value = rng.choice(NASTY_TEXT)
    rows[r][c] = value
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8"), f"row {r + 1} field {c + 1} = {value!r}"


def v_xml(rng, data):
    """The text of a random XML element set to a nasty value (escaped)."""
    text = data.decode("utf-8")
    spots = [m.span(1) for m in re.finditer(r">([^<>]*)</", text)]
    a, b = rng.choice(spots)
    value = rng.choice(NASTY_TEXT)
    return (text[:a] + xml_escape(value) + text[b:]).encode("utf-8"), f"element text at {a} = {value!r}"


def mutate_values(name, i):
    """(bytes, seed, steps) of value-mutation case i of fixture `name`: 1-3 fields given nasty values."""
    seed = f"{name}:{i}:values"
    rng = random.Random(seed)
    data, steps = fixture_bytes(name), []
    for _ in range(rng.randint(1, 3)):
        if name.endswith(".jsonl"):
            data, what = v_json(rng, data)
        elif name.endswith(".xml"):
            data, what = v_xml(rng, data)
        else:
            data, what = v_table(rng, data, "\t" if name.endswith(".tsv") else ",")
        steps.append(what)
    return data, seed, steps


class BadOutput(Exception):
    """An import that succeeded but wrote something canonical.py does not allow."""


class FuzzBase(Case):
    def check_output(self, out):
        """What a successful import wrote: strict JSON lines, and events whose type, item, quantity,
        time and price are what canonical.py promises. Raises BadOutput."""
        def no_constants(c):
            raise BadOutput(f"catalog.jsonl holds the non-JSON token {c}")
        with open(os.path.join(out, "catalog.jsonl"), encoding="utf-8") as f:
            ids = {json.loads(line, parse_constant=no_constants)["id"] for line in f}
        with open(os.path.join(out, "events.csv"), encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            if next(reader) != EVENT_COLUMNS:
                raise BadOutput("events.csv header")
            for row in reader:
                r = dict(zip(EVENT_COLUMNS, row))
                try:
                    assert r["type"] in EVENT_TYPES, "type"
                    assert r["item"] in ids, "item not in the catalog"
                    assert int(r["quantity"]) > 0, "quantity"
                    values.timestamp(r["time"])
                    if r["price"]:
                        values.price(r["price"])
                except (AssertionError, ValueError) as e:
                    raise BadOutput(f"events.csv row {row}: {e}")

    def fuzz(self, name, how="text"):
        failures = []
        suffix = "." + name.rsplit(".", 1)[1]
        for i in range(FUZZ_CASES):
            data, seed, steps = mutate_values(name, i) if how == "values" else mutate(name, i, how == "corrupt_gzip")
            path = self.write(f"fuzz/{i}{suffix}", data)
            out = os.path.join(self.tmp, "fuzz-out")
            try:
                try:
                    kind = detect(path)[0]
                except ImportProblem as e:
                    self.assertIn(e.code, CODES)
                    continue
                if kind == CATALOG:
                    runs = [([path], [fx(PARTNER[CATALOG])])]
                else:
                    runs = [([fx(PARTNER[EVENTS])], [path]), ([], [path])]
                for catalogs, events in runs:
                    try:
                        import_exports(catalogs, events, out, log=quiet)
                    except ImportProblem as e:
                        assert e.code in CODES, e.code
                        assert e.path, e
                    else:
                        self.check_output(out)
            except Exception as e:  # anything else is a bug
                tb = traceback.extract_tb(e.__traceback__)[-1]
                failures.append(f"  seed {seed!r} mutations {steps}: {type(e).__name__}: {e} "
                                f"(at {os.path.basename(tb.filename)}:{tb.lineno} {tb.name})")
        if failures:
            kinds = sorted({f.split(": ")[1] for f in failures})
            replay = {"text": "mutate(name, i)", "corrupt_gzip": "mutate(name, i, True)",
                      "values": "mutate_values(name, i)"}[how]
            self.fail(f"{name}: {len(failures)} of {FUZZ_CASES} mutations raised something other than ImportProblem "
                      f"({', '.join(kinds)}); replay one with {replay} (i is the seed's middle part):\n"
                      + "\n".join(failures[:12]))


class Fuzz(FuzzBase):
    """Text mutations (then, a quarter of the time, gzip): 150 a fixture."""


class FuzzCorruptGzip(FuzzBase):
    """The fixture mutated, gzipped, then the gzip stream flipped, truncated or spliced."""


class FuzzValues(FuzzBase):
    """Structure-aware: 1-3 fields (CSV/TSV), values (JSON, any depth, any type) or element
    texts (XML) set to nasty values: negative, huge, NaN, wrong JSON types, control characters."""


def _fuzz_test(name, how):
    def test(self):
        self.fuzz(name, how)
    test.__doc__ = f"{FUZZ_CASES} seeded {how} mutations of {name}"
    return test


# Fuzz runs that find crashes (or BadOutput) are expected failures until the bugs are fixed (run one alone to
# see each seed and mutation: python test_importers.py FuzzValues.test_fuzz_ga4_events_jsonl).
FUZZ_KNOWN_CRASHES = set()  # (mutation, fixture) pairs known to crash: none

for _name in FUZZ_FILES:
    _slug = _name.replace(".", "_")
    for _cls, _how in ((Fuzz, "text"), (FuzzCorruptGzip, "corrupt_gzip"), (FuzzValues, "values")):
        _t = _fuzz_test(_name, _how)
        if (_how, _name) in FUZZ_KNOWN_CRASHES:
            _t = unittest.expectedFailure(_t)
        setattr(_cls, f"test_fuzz_{_slug}", _t)
del _name, _slug, _cls, _how, _t  # a TestCase left at module level would be collected twice


if __name__ == "__main__":
    unittest.main()
