"""A store's or a benchmark's session export -> the sessions files the
trainer, `edgerec build` and `edgerec eval` read (one session per line,
space-separated item ids, in time order).

Reads, by their header (or --format):
  session-rec TSV    SessionId<TAB>ItemId<TAB>Time (rn5l/session-rec, GRU4Rec's format)
  CSV                the same columns comma-separated, with a header (times as Unix
                     seconds or ISO 8601)
  RecBole .inter     session_id:token<TAB>item_id:token<TAB>timestamp:float (an atomic file;
                     user_id is the session when there is no session_id)
  plain sessions     one session per line, item ids separated by spaces or commas
Each may be gzipped. Events are ordered by time within a session (stable, so
ties keep the file's order); sessions shorter than --min-length are dropped;
in the test file, items never seen in training are dropped (the usual
protocol, so a test case's target can be ranked at all).

  python training/prepare_sessions.py --train TRAIN --test TEST --out DIR
writes DIR/train_sessions.txt and DIR/test_sessions.txt (every prefix of a
test session is a case: `edgerec eval --test DIR/test_sessions.txt`).
Standard library and edgerec_train.values (the importers' time parser). A
store's own exports (Shopify, GA4, Segment, ...) go through `edgerec-train`.
"""
import argparse
import csv
import gzip
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from edgerec_train.values import timestamp  # noqa: E402

SESSION_COLUMNS = ("sessionid", "session_id", "session", "user_id", "userid")
ITEM_COLUMNS = ("itemid", "item_id", "item")
TIME_COLUMNS = ("time", "timestamp", "ts", "datetime")


def open_text(path):
    return gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else open(path, encoding="utf-8")


def column(header, names, what, path):
    """Index of the first header field (RecBole types such as `:token` stripped) named one of `names`."""
    bare = [h.split(":")[0].strip().lower() for h in header]
    for name in names:
        if name in bare:
            return bare.index(name)
    sys.exit(f"{path}: no {what} column in the header {header} (looked for {', '.join(names)})")


def read_table(path, delimiter):
    """Sessions from a table with a header: grouped by session, ordered by time."""
    with open_text(path) as f:
        rows = csv.reader(f, delimiter=delimiter)
        header = next(rows)
        s, i = column(header, SESSION_COLUMNS, "session", path), column(header, ITEM_COLUMNS, "item", path)
        bare = [h.split(":")[0].strip().lower() for h in header]
        t = next((bare.index(n) for n in TIME_COLUMNS if n in bare), None)
        events = defaultdict(list)
        for n, row in enumerate(rows):
            if len(row) <= max(s, i, t or 0):
                continue  # a short or empty line
            when = float(n)
            if t is not None and row[t]:
                try:  # a number is a time as it is (any unit: only the order matters)
                    when = float(row[t])
                except ValueError:
                    when = None
                try:
                    when = timestamp(row[t]) if when is None else when
                except ValueError as e:
                    sys.exit(f"{path}:{rows.line_num}:{t + 1}: {e}")
            events[row[s]].append((when, n, row[i].strip()))
    return [[item for _, _, item in sorted(evs)] for evs in events.values()]


def read_plain(path):
    with open_text(path) as f:
        return [line.replace(",", " ").split() for line in f if line.strip()]


def detect(path):
    """'tsv', 'inter', 'csv' or 'plain', from the file's first line."""
    with open_text(path) as f:
        first = f.readline()
    commas = [x.strip().lower() for x in first.rstrip("\n").split(",")]
    if "\t" not in first and any(n in commas for n in SESSION_COLUMNS) and any(n in commas for n in ITEM_COLUMNS):
        return "csv"
    fields = [x.split(":")[0].strip().lower() for x in first.rstrip("\n").split("\t")]
    if any(":" in x for x in first.split("\t")) and any(n in fields for n in SESSION_COLUMNS):
        return "inter"
    if any(n in fields for n in SESSION_COLUMNS) and any(n in fields for n in ITEM_COLUMNS):
        return "tsv"
    return "plain"


def read_sessions(path, fmt):
    fmt = detect(path) if fmt == "auto" else fmt
    if fmt == "plain":
        return read_plain(path)
    return read_table(path, "," if fmt == "csv" else "\t")


def write(path, sessions):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(" ".join(s) + "\n" for s in sessions)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--format", choices=["auto", "tsv", "csv", "inter", "plain"], default="auto")
    ap.add_argument("--min-length", type=int, default=2, help="drop sessions shorter than this")
    a = ap.parse_args()

    train = [s for s in read_sessions(a.train, a.format) if len(s) >= a.min_length]
    known = {i for s in train for i in s}
    test_all = read_sessions(a.test, a.format)
    test = [[i for i in s if i in known] for s in test_all]
    dropped = sum(len(s) for s in test_all) - sum(len(s) for s in test)
    test = [s for s in test if len(s) >= a.min_length]
    os.makedirs(a.out, exist_ok=True)
    write(os.path.join(a.out, "train_sessions.txt"), train)
    write(os.path.join(a.out, "test_sessions.txt"), test)
    cases = sum(len(s) - 1 for s in test)
    print(f"{len(train)} training sessions ({len(known)} items), {len(test)} test sessions ({cases} cases; "
          f"{dropped} test events of items unseen in training dropped) -> {a.out}")


if __name__ == "__main__":
    main()
