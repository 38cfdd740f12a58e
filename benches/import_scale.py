"""How the importers scale: a synthetic plain events CSV of N events (Zipf
items over a 200k catalog, 6-event sessions, 3 % carts, 1 % purchases) through
the import and the DuckDB sessions step, run in a child process per size;
prints events/s and the child's peak memory (ru_maxrss), so that flat memory
across sizes shows the import is bounded (DuckDB spills past --memory-limit).

    python benches/import_scale.py --events 1000000 4000000 [--memory-limit 1GB]
"""
import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.join(os.path.dirname(HERE), "training")


def write_events(path, n, seed=7):
    rng = random.Random(seed)
    t = 1_700_000_000
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["session", "time", "type", "item", "price"])
        for i in range(n):
            if i % 6 == 0:
                t += rng.randint(1, 40)
            r = rng.random()
            kind = "purchase" if r < 0.01 else "cart" if r < 0.04 else "view"
            item = int(200_000 * rng.paretovariate(1.2)) % 200_000
            w.writerow([f"s{i // 6}", t + (i % 6) * 20, kind, f"sku-{item}", f"{1 + item % 97}.99"])


CHILD = """
import resource, sys, time
sys.path.insert(0, sys.argv[1])
from edgerec_train.imports import import_exports
from edgerec_train.sessions import split_sessions
started = time.time()
_, n, _ = import_exports([], [sys.argv[2]], sys.argv[3], log=lambda *a: None)
imported = time.time()
split_sessions(sys.argv[3] + "/events.csv", sys.argv[3] + "/sessions", memory_limit=sys.argv[4])
done = time.time()
print("RESULT", n, imported - started, done - imported, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, nargs="+", default=[1_000_000, 4_000_000])
    ap.add_argument("--memory-limit", default="1GB")
    a = ap.parse_args()
    print("| events (synthetic CSV) | import, events/s | sessions step, events/s | peak memory MB |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="edgerec-scale-") as tmp:
        for n in a.events:
            src = os.path.join(tmp, f"events-{n}.csv")
            write_events(src, n)
            out = subprocess.run([sys.executable, "-c", CHILD, TRAINING, src, os.path.join(tmp, f"out-{n}"),
                                  a.memory_limit], capture_output=True, text=True)
            if out.returncode:
                sys.exit(f"{n:,} events: the import failed:\n{out.stderr[-3000:]}")
            out = out.stdout
            # DuckDB's own progress bar shares the child's stdout: the figures follow RESULT.
            fields = out[out.rindex("RESULT"):].split()[1:5]
            kept, t_import, t_split, rss_kb = int(fields[0]), float(fields[1]), float(fields[2]), int(fields[3])
            print(f"| {n:,} | {kept / t_import:,.0f} | {kept / t_split:,.0f} | {rss_kb / 1024:,.0f} |", flush=True)
            os.remove(src)


if __name__ == "__main__":
    main()
