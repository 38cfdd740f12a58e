"""GA4's BigQuery export: `events_YYYYMMDD` rows, as newline-delimited JSON
(`bq extract --destination_format NEWLINE_DELIMITED_JSON`, one gzip a daily
table; pass the folder) or as Parquet.

Schema: support.google.com/analytics/answer/7029846. `event_timestamp` is
microseconds (a string in JSON: BigQuery writes INT64 as strings, and leaves
NULL fields out); `event_params` is a repeated key / value record whose
`ga_session_id` (an int_value) with `user_pseudo_id` makes the session;
`items` is repeated (`[]` when empty). view_item is a view, add_to_cart a
cart, purchase a purchase of each item (`ecommerce.transaction_id` its order);
other events are counted and skipped. training/edgerec_train/ga4_canonical.sql
computes the same events table inside BigQuery."""
from edgerec_train import values
from edgerec_train.errors import ImportProblem
from edgerec_train.formats.common import content_id, number_or_none, price_or_none, text
from edgerec_train.located import files_of, json_lines

KINDS = {"view_item": "view", "add_to_cart": "cart", "purchase": "purchase"}


def is_ga4(obj):
    return "event_name" in obj and "event_timestamp" in obj


def read(path, events, tally):
    for file in files_of(path, (".json", ".jsonl", ".ndjson", ".gz", ".parquet")):
        rows = _parquet_rows(file) if file.endswith(".parquet") else json_lines(file)
        for line, obj in rows:
            _one(file, line, obj, events, tally)


def _parquet_rows(file):
    """(row number, dict) of a Parquet file, a batch at a time (bounded memory)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportProblem("UNKNOWN_FORMAT", file, "reading Parquet needs pyarrow (pip install pyarrow)")
    try:
        reader = pq.ParquetFile(file)
    except Exception as e:  # pyarrow raises its own ArrowInvalid
        raise ImportProblem("UNKNOWN_FORMAT", file, f"not a Parquet file: {e}")
    n = 0
    for batch in reader.iter_batches(batch_size=8192):
        for row in batch.to_pylist():
            n += 1
            yield n, row


def param(obj, key):
    """An event parameter's value, whichever typed field holds it (None for a malformed one)."""
    params = obj.get("event_params")
    for p in params if isinstance(params, list) else []:
        if isinstance(p, dict) and p.get("key") == key:
            v = p.get("value")
            for field in ("int_value", "string_value", "double_value", "float_value"):
                if isinstance(v, dict) and v.get(field) is not None:
                    return v[field]
    return None


def _one(file, line, obj, events, tally):
    where = f"{file}:{line}"

    def problem(code, msg):
        return ImportProblem(code, file, msg, line=line)

    name = text(obj.get("event_name"))
    kind = KINDS.get(name)
    if kind is None:
        tally.drop("events other than view_item / add_to_cart / purchase", None)
        return
    stamp = number_or_none(obj.get("event_timestamp"), "event_timestamp", problem)
    if stamp is None:
        raise problem("BAD_TIME", "event_timestamp is missing")
    try:
        when = values.timestamp(f"{stamp:.0f}")
    except ValueError as e:
        raise problem("BAD_TIME", f"event_timestamp: {e}")
    visitor = text(obj.get("user_pseudo_id")) or text(obj.get("user_id"))
    if not visitor:
        tally.drop("events without user_pseudo_id", where)
        return
    session_id = text(param(obj, "ga_session_id"))
    session = f"ga4:{visitor}.{session_id}" if session_id else ""
    if not session_id:
        tally.keep("events without ga_session_id (sessions cut by 30-minute gaps)")
    items = obj.get("items") or []
    if not isinstance(items, list):
        raise problem("BAD_JSON", "items is not a list")
    if not items:
        tally.drop(f"{name} events with an empty items[]", where)
        return
    ecommerce = obj.get("ecommerce") or {}
    if not isinstance(ecommerce, dict):
        raise problem("BAD_JSON", "ecommerce is not a record")
    order = text(ecommerce.get("transaction_id")) or text(param(obj, "transaction_id"))
    if kind == "purchase" and order in ("", "(not set)"):
        order = f"{visitor}@{stamp:.0f}"
    currency = text(param(obj, "currency")) or None
    # The same row exported twice has the same id; two purchases in one microsecond differ by order.
    base_id = content_id({"t": f"{stamp:.0f}", "n": name, "u": visitor, "s": session_id, "o": order})
    for i, item in enumerate(x for x in items if isinstance(x, dict)):
        ids = [text(item.get("item_id"))]
        if not ids[0] or ids[0] == "(not set)":
            tally.drop(f"{name} items without item_id", where)
            continue
        price = price_or_none(item.get("price"), "items.price", problem)
        try:
            qty = values.quantity(text(item.get("quantity")), default=1)
        except ValueError as e:
            raise problem("BAD_NUMBER", f"items.quantity: {e}")
        category = " > ".join(text(item.get(f"item_category{s}")) for s in ("", "2", "3", "4", "5")
                              if text(item.get(f"item_category{s}")) not in ("", "(not set)"))
        events.event(session=session, visitor=f"ga4:{visitor}", time=when, type=kind, raw_ids=ids, where=where,
                     event_id=f"{base_id}#{i}", quantity=qty, price=price, currency=currency,
                     order=order if kind == "purchase" else "", title=text(item.get("item_name")).replace("(not set)", ""),
                     category=category, brand=text(item.get("item_brand")).replace("(not set)", ""))
