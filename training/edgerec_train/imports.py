"""Exports in, the canonical pair out: catalogs first (so events can name
their products by any SKU or variant id), then events, streamed."""
import os

from edgerec_train.canonical import Catalog, EventWriter, Tally
from edgerec_train.detect import CATALOG, EVENTS, detect
from edgerec_train.errors import ImportProblem


def import_exports(catalog_paths, event_paths, out_dir, log=print):
    """Writes out_dir/catalog.jsonl and out_dir/events.csv. Returns (catalog, events written, tally)."""
    os.makedirs(out_dir, exist_ok=True)
    catalog, tally = Catalog(), Tally()
    for path in catalog_paths:
        kind, name, read = detect(path)
        if kind != CATALOG:
            raise ImportProblem("UNKNOWN_FORMAT", path, f"given as a catalog, but it reads as {name} (events)")
        log(f"  {path}: {name}")
        read(path, catalog, tally)
    if not catalog_paths:
        catalog.from_events = True  # no product feed: the events' own item names and prices describe the items
    events = EventWriter(os.path.join(out_dir, "events.csv"), catalog, tally)
    try:
        for path in event_paths:
            kind, name, read = detect(path)
            if kind != EVENTS:
                raise ImportProblem("UNKNOWN_FORMAT", path, f"given as events, but it reads as {name} (a catalog)")
            log(f"  {path}: {name}")
            read(path, events, tally)
    finally:
        events.close()
    catalog.write(os.path.join(out_dir, "catalog.jsonl"))
    if events.count == 0:
        raise ImportProblem("NO_DATA", event_paths[0] if event_paths else out_dir,
                            "no event was kept:\n" + "\n".join(tally.lines()))
    return catalog, events.count, tally
