"""Which export a file is, from its first line (a folder: its first file)."""
import json
import os

from edgerec_train.errors import ImportProblem
from edgerec_train.formats import catalog_jsonl, ga4, merchant, plain, segment, shopify
from edgerec_train.formats.columns import check_header
from edgerec_train.located import Table, files_of, first_line

CATALOG, EVENTS = "catalog", "events"


def detect(path):
    """(kind, format name, reader(path, sink, tally)) for an export file or folder."""
    if not os.path.exists(path):
        raise ImportProblem("EMPTY_FILE", path, "no such file or folder")
    probe = files_of(path)[0]
    if os.path.getsize(probe) == 0:
        raise ImportProblem("EMPTY_FILE", probe, "the file is empty", line=1)
    if probe.endswith(".parquet"):
        return EVENTS, "GA4 BigQuery export (Parquet)", ga4.read
    head = first_line(probe)
    if not head.strip():
        raise ImportProblem("EMPTY_FILE", probe, "the first line is empty or the file is not UTF-8 text", line=1)
    stripped = head.lstrip()
    if stripped.startswith(("<?xml", "<rss", "<feed")):
        return CATALOG, "Merchant Center XML feed", merchant.read_xml
    if stripped.startswith("{"):
        try:
            obj = json.loads(head)
        except json.JSONDecodeError as e:
            raise ImportProblem("BAD_JSON", probe, f"not JSON: {e.msg}", line=1, column=e.colno)
        if ga4.is_ga4(obj):
            return EVENTS, "GA4 BigQuery export (JSON)", ga4.read
        if segment.is_segment(obj) or obj.get("type") in ("track", "page", "identify", "screen"):
            return EVENTS, "Segment / RudderStack track events", segment.read
        if catalog_jsonl.is_catalog_line(obj):
            return CATALOG, "edgerec catalog (JSON lines)", catalog_jsonl.read
        raise ImportProblem("UNKNOWN_FORMAT", probe, "JSON lines, but neither GA4 rows (event_name, "
                            "event_timestamp), Segment calls (event, anonymousId) nor catalog lines (id, title)",
                            line=1)
    delimiter = plain.sniff_delimiter(head)
    columns = head.split(delimiter)
    if delimiter == "\t" and merchant.is_merchant_tsv(columns):
        return CATALOG, "Merchant Center TSV feed", merchant.read_tsv
    if shopify.is_products(columns):
        return CATALOG, "Shopify products CSV", shopify.read_products
    if shopify.is_orders(columns):
        return EVENTS, "Shopify orders CSV", shopify.read_orders
    table = Table(probe, delimiter)
    table.close()
    check_header(table, "CSV with a header")
    if not plain.knows_a_column(columns):
        raise ImportProblem("HEADER_AS_DATA", probe, "none of the first line's fields is a column name edgerec "
                            f"knows ({columns[:3]}…): is the header missing, or is this another format?",
                            line=1, column=1)
    if plain.is_catalog(columns):
        return CATALOG, "catalog CSV", lambda p, sink, tally: plain.read_catalog(p, delimiter, sink, tally)
    return EVENTS, "events CSV", lambda p, sink, tally: plain.read_events(p, delimiter, sink, tally)
