"""Coverage-guided fuzzing of the importers with atheris (libFuzzer for
Python), as fuzz/ does for the engine's parsers: any exception but
ImportProblem is a crash, saved by libFuzzer with the input that made it.

    pip install atheris
    python training/fuzz_importers.py -max_total_time=600 /tmp/importer-corpus

The first byte of an input picks the fixture (training/fixtures/exports/)
whose name, suffix and role (catalog or events) the rest takes; the other
role is filled by a fixture of the same store. The corpus starts from the
fixtures themselves. test_importers.py runs a seeded, non-guided version of
this in every `npm test`."""
import os
import shutil
import sys
import tempfile

import atheris

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
with atheris.instrument_imports(include=["edgerec_train"]):
    from edgerec_train.errors import ImportProblem
    from edgerec_train.imports import import_exports

FIXTURES = os.path.join(HERE, "fixtures", "exports")
FILES = sorted(f for f in os.listdir(FIXTURES) if f != "README.md" and os.path.isfile(os.path.join(FIXTURES, f)))
CATALOGS = {f for f in FILES if f.startswith(("shopify_products", "merchant_center"))}
WORK = tempfile.mkdtemp(prefix="edgerec-fuzz-")


def one_input(data):
    if len(data) < 2:
        return
    name = FILES[data[0] % len(FILES)]
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(data[1:])
    if name in CATALOGS:
        catalogs, events = [path], [os.path.join(FIXTURES, "segment_events.jsonl")]
    else:
        catalogs, events = [os.path.join(FIXTURES, "shopify_products.csv")], [path]
    try:
        import_exports(catalogs, events, os.path.join(WORK, "out"), log=lambda *a: None)
    except ImportProblem:
        pass


def seed_corpus(folder):
    os.makedirs(folder, exist_ok=True)
    if not os.listdir(folder):
        for i, name in enumerate(FILES):
            with open(os.path.join(FIXTURES, name), "rb") as src, open(os.path.join(folder, name), "wb") as dst:
                dst.write(bytes([i]) + src.read())


if __name__ == "__main__":
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        seed_corpus(corpus[0])
    try:
        atheris.Setup(sys.argv, one_input)
        atheris.Fuzz()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
