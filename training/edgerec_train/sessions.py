"""Canonical events → the trainer's sessions, split by time, out of core.

DuckDB reads events.csv and does the three steps that need the whole data set
at once (de-duplication, sessions cut by inactivity, grouping), spilling to
disk past `memory_limit`, so 100 M events import on one machine. The same
steps in BigQuery are training/edgerec_train/ga4_canonical.sql.

Sessions keep every event type in time order (a view, a cart and a purchase of
one item are one step: an item enters a session at its first event);
co-purchase statistics come from orders (purchases grouped by order) when the
store has enough multi-item orders, else from the sessions."""
import datetime as dt
import os
from dataclasses import dataclass, field

from edgerec_train.canonical import EVENT_TYPES

GAP_MINUTES = 30
# Fewer multi-item orders than this and co-purchase is mined from sessions (a views-only store).
MIN_ORDERS_FOR_MINING = 200


@dataclass
class Split:
    events: int = 0
    duplicates: int = 0
    duplicate_examples: list = field(default_factory=list)
    first: str = ""
    last: str = ""
    test_from: str = ""
    train_sessions: int = 0
    test_sessions: int = 0
    test_cases: int = 0
    test_items_unseen: int = 0
    conversion_cases: int = 0
    evaluated_cases: int = 0
    min_support: int = 3
    items: int = 0
    orders: int = 0
    multi_item_orders: int = 0
    mining_source: str = ""
    types: dict = field(default_factory=dict)
    paths: dict = field(default_factory=dict)


def test_window(first, last, test_days):
    """The test period's start: `test_days` before the last event, or by default
    the last 2 weeks when the data spans 10 weeks or more, else its last 15 %."""
    span = last - first
    if test_days:
        return last - dt.timedelta(days=test_days)
    if span >= dt.timedelta(weeks=10):
        return last - dt.timedelta(weeks=2)
    return last - span * 0.15


def _grouped(con, query):
    """(start, items, types) of each group of a query's rows (start, group, item, type), sorted
    by group: DuckDB sorts out of core and only one group at a time is held here."""
    cursor = con.execute(query)
    current, start, items, types = None, None, [], []
    while rows := cursor.fetchmany(50000):
        for row_start, group, item, kind in rows:
            if group != current:
                if current is not None:
                    yield start, items, types
                current, start, items, types = group, row_start, [], []
            items.append(item)
            types.append(kind)
    if current is not None:
        yield start, items, types


def split_sessions(events_csv, out_dir, test_days=0, memory_limit="2GB", threads=2, train_types=("view", "cart", "purchase")):
    """`train_types`: the event types the training sessions are made of (the
    test sessions keep every type, so choices compare on the same cases)."""
    import duckdb

    os.makedirs(out_dir, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # times print as UTC whatever the machine's zone
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET temp_directory = ?", [os.path.join(out_dir, "duckdb.tmp")])
    con.execute("""
        CREATE TABLE raw AS SELECT row_number() OVER () AS seq, * FROM read_csv(?, header = true, quote = '"',
            escape = '"', columns = {'session': 'VARCHAR', 'visitor': 'VARCHAR', 'time': 'TIMESTAMPTZ',
            'type': 'VARCHAR', 'item': 'VARCHAR', 'quantity': 'BIGINT', 'price': 'DOUBLE', 'currency': 'VARCHAR',
            '"order"': 'VARCHAR', 'event_id': 'VARCHAR', 'source': 'VARCHAR'})""".replace("'\"order\"'", "'order'"),
                [events_csv])
    s = Split()
    s.events = con.execute("SELECT count(*) FROM raw").fetchone()[0]
    # The same event exported twice (a message redelivered, an order in two exports): the first copy counts.
    con.execute("""CREATE TABLE ev AS SELECT * FROM raw
                   QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY seq) = 1""")
    s.duplicates = s.events - con.execute("SELECT count(*) FROM ev").fetchone()[0]
    if s.duplicates:
        s.duplicate_examples = [r[0] for r in con.execute("""SELECT source FROM raw
            QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY seq) > 1 ORDER BY seq LIMIT 3""").fetchall()]
    con.execute("DROP TABLE raw")
    # Events without a session (Segment, a CSV of visitors): a visitor's session ends after 30 idle minutes.
    con.execute(f"""
        CREATE TABLE cut AS
        WITH marked AS (
            SELECT *, coalesce(session, '') = '' AS unsessioned,
                   CASE WHEN lag(time) OVER w IS NULL OR time - lag(time) OVER w > INTERVAL {GAP_MINUTES} MINUTE
                        THEN 1 ELSE 0 END AS starts
            FROM ev WINDOW w AS (PARTITION BY visitor, coalesce(session, '') = '' ORDER BY time, seq))
        SELECT seq, time, type, item, "order",
               CASE WHEN unsessioned THEN 'v:' || visitor || '~' ||
                    sum(starts) OVER (PARTITION BY visitor, unsessioned ORDER BY time, seq ROWS UNBOUNDED PRECEDING)
                    ELSE session END AS sid
        FROM marked""")
    con.execute("DROP TABLE ev")
    # The span from the 0.5th percentile: a few stray old events (a clock reset, a test order)
    # must not stretch the default test window.
    first, last = con.execute("SELECT quantile_disc(time, 0.005), max(time) FROM cut").fetchone()
    test_from = test_window(first, last, test_days)
    s.first, s.last, s.test_from = str(first)[:19], str(last)[:19], str(test_from)[:19]
    s.types = dict(con.execute("SELECT type, count(*) FROM cut GROUP BY type ORDER BY type").fetchall())

    paths = {name: os.path.join(out_dir, f"{name}.txt") for name in
             ("train_sessions", "test_sessions", "test_conversions", "orders", "all_sessions", "all_orders")}
    s.paths = paths
    known = set()
    # Where sessions hold views as well as carts or purchases, a second test: the next item the
    # shopper carts or buys (`prefix<TAB>target`), what a store cares about most.
    has_views = s.types.get("view", 0) > 0 and (s.types.get("cart", 0) + s.types.get("purchase", 0)) > 0
    with open(paths["train_sessions"], "w") as train, open(paths["test_sessions"], "w") as test, \
            open(paths["all_sessions"], "w") as everything, open(paths["test_conversions"], "w") as conversions:
        every_type = set(train_types) >= set(EVENT_TYPES)
        for start, items, types in _grouped(con, """
                SELECT s.start, c.sid, c.item, c.type FROM cut c JOIN (SELECT sid, min(time) AS start FROM cut GROUP BY sid) s
                USING (sid) ORDER BY s.start, c.sid, c.time, c.seq"""):
            steps = list(dict.fromkeys(items))  # an item enters a session at its first event
            if not every_type:
                kept = list(dict.fromkeys(i for i, t in zip(items, types) if t in train_types))
            everything.write(" ".join(steps if every_type else kept) + "\n")
            if start < test_from:
                chosen = steps if every_type else kept
                if chosen:
                    train.write(" ".join(chosen) + "\n")
                    known.update(chosen)
                    s.train_sessions += 1
            else:
                seen = [i for i in steps if i in known]
                s.test_items_unseen += len(steps) - len(seen)
                if len(seen) >= 2:
                    test.write(" ".join(seen) + "\n")
                    s.test_sessions += 1
                    s.test_cases += len(seen) - 1
                if has_views:
                    converted = {i for i, t in zip(items, types) if t != "view"}
                    for n in range(1, len(seen)):
                        if seen[n] in converted:
                            conversions.write(" ".join(seen[:n]) + "\t" + seen[n] + "\n")
                            s.conversion_cases += 1
    s.items = len(known)
    with open(paths["orders"], "w") as train_orders, open(paths["all_orders"], "w") as all_orders:
        for start, items, _ in _grouped(con, """
                SELECT o.start, c."order", c.item, c.type FROM cut c
                JOIN (SELECT "order", min(time) AS start FROM cut WHERE type = 'purchase' AND coalesce("order", '') <> ''
                      GROUP BY "order") o USING ("order")
                WHERE c.type = 'purchase' ORDER BY o.start, c."order" """):
            items = sorted(set(items))
            s.orders += 1
            s.multi_item_orders += len(items) >= 2
            line = " ".join(items) + "\n"
            all_orders.write(line)
            if start < test_from:
                train_orders.write(line)
    s.mining_source = "orders" if s.multi_item_orders >= MIN_ORDERS_FOR_MINING else "sessions"
    con.close()
    return s
