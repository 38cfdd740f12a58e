"""Segment's (and RudderStack's) e-commerce spec v2 as track calls in
newline-delimited JSON: what Segment's S3 / warehouse copies and RudderStack's
object-storage destinations write (one gzip per hour or day folder; pass the
folder). segment.com/docs/connections/spec/ecommerce/v2/

`Product Viewed` is a view, `Product Added` a cart, `Order Completed` a
purchase of each of its `products[]`; other calls (page, identify, other
track events) are counted and skipped. The spec has no session: events are
grouped by `anonymousId` (else `userId`, which is often null or set only on
the order) and cut after 30 minutes without one, as analytics tools do. A
message delivered twice (the same `messageId`) counts once."""
from edgerec_train import values
from edgerec_train.errors import ImportProblem
from edgerec_train.formats.common import content_id, price_or_none, text
from edgerec_train.located import files_of, json_lines

# v2 names, and v1's that the spec says are still sent.
KINDS = {"product viewed": "view", "product added": "cart", "order completed": "purchase",
         "viewed product": "view", "added product": "cart", "completed order": "purchase"}


def is_segment(obj):
    return isinstance(obj.get("event"), str) and ("anonymousId" in obj or "messageId" in obj or "userId" in obj)


def read(path, events, tally):
    for file in files_of(path, (".json", ".jsonl", ".ndjson", ".gz")):
        for line, obj in json_lines(file):
            _one(file, line, obj, events, tally)


def _one(file, line, obj, events, tally):
    where = f"{file}:{line}"

    def problem(code, msg, key):
        return ImportProblem(code, file, f"{key}: {msg}", line=line, column=_column(key))

    call = obj.get("type", "track")
    if call != "track":
        tally.drop(f"{call} calls (not track events)", None)
        return
    name = text(obj.get("event"))
    kind = KINDS.get(name.lower().replace("_", " "))
    if kind is None:
        tally.drop("track events other than Product Viewed / Product Added / Order Completed", None)
        return
    visitor = text(obj.get("anonymousId")) or text(obj.get("userId"))
    if not visitor:
        tally.drop("events with neither anonymousId nor userId", where)
        return
    stamp = next((obj[k] for k in ("timestamp", "originalTimestamp", "receivedAt", "sentAt") if obj.get(k)), None)
    if stamp is None:
        raise ImportProblem("BAD_TIME", file, "no timestamp, originalTimestamp, receivedAt or sentAt", line=line)
    try:
        when = values.timestamp(text(stamp))
    except ValueError as e:
        raise problem("BAD_TIME", str(e), "timestamp")
    props = obj.get("properties") or {}
    if not isinstance(props, dict):
        raise problem("BAD_JSON", "is not an object", "properties")
    message = text(obj.get("messageId")) or content_id(obj)
    currency = text(props.get("currency")) or None
    if kind == "purchase":
        products = props.get("products") or []
        if not isinstance(products, list):
            raise problem("BAD_JSON", "is not a list", "properties.products")
        order = text(props.get("order_id")) or message
        if not products:
            tally.drop("Order Completed without products[]", where)
        for i, product in enumerate(p for p in products if isinstance(p, dict)):
            _event(events, product, kind, visitor, when, where, f"{message}#{i}", currency, order, problem)
    else:
        _event(events, props, kind, visitor, when, where, message, currency, "", problem)


def _event(events, p, kind, visitor, when, where, event_id, currency, order, problem):
    ids = [text(p.get("product_id")), text(p.get("sku")), text(p.get("id"))]
    if not any(ids):
        events.tally.drop(f"{kind} events without product_id or sku", where)
        return
    price = price_or_none(p.get("price"), "price", lambda c, m: problem(c, m, "properties.price"))
    try:
        qty = values.quantity(text(p.get("quantity")), default=1)
    except ValueError as e:
        raise problem("BAD_NUMBER", str(e), "properties.quantity")
    events.event(session="", visitor=f"segment:{visitor}", time=when, type=kind, raw_ids=ids, where=where,
                 event_id=event_id, quantity=qty, price=price, currency=currency, order=order,
                 title=text(p.get("name")), category=text(p.get("category")), brand=text(p.get("brand")))


def _column(key):
    return None  # a JSON line's keys have no fixed column; the message names the key
