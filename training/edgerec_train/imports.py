"""Exports in, the canonical pair out: catalogs first (so events can name
their products by any SKU or variant id), then events, streamed."""
import os

from tqdm import tqdm

from edgerec_train.canonical import Catalog, EventWriter, Tally
from edgerec_train.detect import CATALOG, EVENTS, detect
from edgerec_train.errors import ImportProblem
from edgerec_train.located import files_of

# In a folder (a day-sharded export), the files an export is made of; others
# (Segment's dummy-object.txt, a README) are skipped and counted.
EXPORT_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".gz", ".parquet", ".xml")


def export_files(paths, tally):
    """Each given file as it is; a folder's export files, in name order."""
    for path in paths:
        if not os.path.isdir(path):
            yield path
            continue
        for file in files_of(path):
            if file.endswith(EXPORT_SUFFIXES):
                yield file
            else:
                tally.drop("files in an export folder that are not exports (by their suffix)", file)


def import_exports(catalog_paths, event_paths, out_dir, log=print):
    """Writes out_dir/catalog.jsonl and out_dir/events.csv. Returns (catalog, events written, tally)."""
    os.makedirs(out_dir, exist_ok=True)
    catalog, tally = Catalog(), Tally()
    for path in export_files(catalog_paths, tally):
        kind, name, read = detect(path)
        if kind != CATALOG:
            raise ImportProblem("UNKNOWN_FORMAT", path, f"given as a catalog, but it reads as {name} (events)")
        log(f"  {path}: {name}")
        read(path, catalog, tally)
    if not catalog_paths:
        catalog.from_events = True  # no product feed: the events' own item names and prices describe the items
    events = EventWriter(os.path.join(out_dir, "events.csv"), catalog, tally)
    # A bar on a terminal only (disable=None): logs stay readable.
    events.progress = tqdm(unit=" events", desc="importing", disable=None, mininterval=1)
    try:
        for path in export_files(event_paths, tally):
            kind, name, read = detect(path)
            if kind != EVENTS:
                raise ImportProblem("UNKNOWN_FORMAT", path, f"given as events, but it reads as {name} (a catalog)")
            if len(event_paths) == 1 and os.path.isdir(event_paths[0]):
                events.progress.set_postfix_str(os.path.basename(path), refresh=False)
            else:
                log(f"  {path}: {name}")
            read(path, events, tally)
    finally:
        events.progress.close()
        events.close()
    catalog.write(os.path.join(out_dir, "catalog.jsonl"))
    if events.count == 0:
        raise ImportProblem("NO_DATA", event_paths[0] if event_paths else out_dir,
                            "no event was kept:\n" + "\n".join(tally.lines()))
    return catalog, events.count, tally
