"""`edgerec-train`: a store's exports to a tuned, evaluated bundle in one command.

  edgerec-train --products products.csv --orders orders.csv --out store.edgerec
  edgerec-train --products feed.tsv --events ga4_export/ --out store.edgerec
  edgerec-train import --products products.csv --orders orders.csv --out-dir canonical/

Formats are recognised by their content: Shopify products and orders CSV,
Merchant Center TSV or XML, Segment / RudderStack track events (JSON lines,
gzip, a folder of them), GA4's BigQuery export (JSON lines or Parquet), and a
plain CSV of events or products with a header. docs/own-data.md has the details."""
import argparse
import sys

from edgerec_train.errors import ImportProblem


def parser():
    ap = argparse.ArgumentParser(prog="edgerec-train", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("command", nargs="?", choices=["train", "import"], default="train",
                    help="train (default): everything to a bundle; import: only the canonical tables")
    ap.add_argument("--products", "--catalog", "--feed", action="append", default=[], metavar="FILE",
                    help="a product catalog export (repeatable)")
    ap.add_argument("--orders", "--events", dest="events", action="append", default=[], metavar="FILE",
                    help="orders or events: a file or a folder of daily files (repeatable)")
    ap.add_argument("--out", help="the bundle to write (train)")
    ap.add_argument("--out-dir", help="where `import` writes events.csv and catalog.jsonl")
    ap.add_argument("--work", help="folder for the intermediate files (default: OUT without .edgerec, + .work)")
    ap.add_argument("--name", default="store", help="the data set's name in the model card")
    ap.add_argument("--policy", help="the store's offer policy (JSON) to ship in the bundle")
    ap.add_argument("--test-days", type=float, default=0,
                    help="days at the end held out for the test (default: 14, or 15%% of a shorter span)")
    ap.add_argument("--dim", type=int, default=0, help="embedding size (default by catalog size: 32, 64 or 100)")
    ap.add_argument("--epochs", type=int, default=0, help="training epochs (default 12, 8 past 200k sessions)")
    ap.add_argument("--time-budget", type=float, default=30,
                    help="minutes of training at most, default 30 (0: no limit)")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N sessions only (trials)")
    ap.add_argument("--eval-limit", type=int, default=20000, help="test cases evaluated at most")
    ap.add_argument("--train-events", default="view,cart,purchase",
                    help="event types the training sessions are made of (test sessions keep every type)")
    ap.add_argument("--memory-limit", default="2GB", help="DuckDB's memory before it spills to disk")
    return ap


def main(argv=None):
    a = parser().parse_args(argv)
    if not a.events:
        parser().error("give the orders or events: --orders FILE (or --events)")
    try:
        if a.command == "import":
            from edgerec_train.imports import import_exports
            if not a.out_dir:
                parser().error("import needs --out-dir")
            catalog, written, tally = import_exports(a.products, a.events, a.out_dir)
            print(f"{len(catalog.products):,} products, {written:,} events → {a.out_dir}")
            print("\n".join(tally.lines()))
            return 0
        if not a.out:
            parser().error("give the bundle to write: --out store.edgerec")
        from edgerec_train.pipeline import train_store
        return train_store(a)
    except ImportProblem as e:
        print(f"edgerec-train: error {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
