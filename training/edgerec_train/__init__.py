"""edgerec's training side: a store's exports in, a tuned and evaluated bundle out.

    edgerec-train --products products.csv --orders orders.csv --out store.edgerec

Importers (`edgerec_train.formats`) read each platform's export as the platform
writes it into one canonical pair (`canonical.py`): events and a catalog. The
sessions step (`sessions.py`) groups, de-duplicates and splits them by time in
DuckDB (out of core), the trainer (`train.py`) fits the session encoder, and the
native `edgerec` CLI shipped in this package tunes, builds and evaluates the bundle.
"""

__version__ = "0.1.0"
