"""The one command: exports → canonical tables → sessions split by time →
trained encoder → tuned blend → bundle, evaluated on the store's own last
weeks beside popularity and item-kNN, with a summary a store owner reads."""
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time

from edgerec_train.imports import import_exports
from edgerec_train.sessions import split_sessions


def edgerec_binary():
    """The native CLI: this package's own (the wheel installs it beside python), else a repository build."""
    candidates = [os.environ.get("EDGEREC_BIN"), os.path.join(sysconfig.get_path("scripts"), "edgerec"),
                  shutil.which("edgerec")]
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(repo, "target")
    candidates.append(os.path.join(target, "release", "edgerec"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    sys.exit("edgerec-train: the native `edgerec` CLI is not installed (pip install the edgerec-train wheel, "
             "or `cargo build --release` in the repository)")


def defaults_for(items, sessions):
    """Sane defaults by the store's size: a small store gets a small, quick model."""
    dim = 32 if items < 2000 else 64 if items < 20000 else 100
    return {"dim": dim, "epochs": 12 if sessions < 200000 else 8}


class Steps:
    def __init__(self, log):
        self.log, self.started, self.times = log, time.time(), {}

    def run(self, name, argv, capture=False):
        self.log(f"== {name}")
        t = time.time()
        result = subprocess.run(argv, text=True, stdout=subprocess.PIPE if capture else None)
        self.times[name] = round(time.time() - t, 1)
        if result.returncode != 0:
            if capture and result.stdout:
                self.log(result.stdout)
            sys.exit(f"edgerec-train: {name} failed (exit {result.returncode}): {' '.join(argv)}")
        return result.stdout


def quality_rows(eval_output):
    """The eval table's rows that the summary compares: {ranker: (Recall@20, MRR@20)}."""
    rows = {}
    for line in eval_output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.match(r"^\d+(\.\d+)?$", cells[1]):
            rows[cells[0]] = (float(cells[1]), float(cells[2]))
    return rows


def train_store(a, log=print):
    work = a.work or os.path.splitext(a.out)[0] + ".work"
    steps = Steps(log)
    edgerec = edgerec_binary()
    log(f"== import ({work}/import)")
    t = time.time()
    catalog, written, tally = import_exports(a.products, a.events, os.path.join(work, "import"), log=log)
    steps.times["import"] = round(time.time() - t, 1)
    for line in tally.lines():
        log(line)
    log(f"== sessions, split by time ({work}/sessions)")
    t = time.time()
    split = split_sessions(os.path.join(work, "import", "events.csv"), os.path.join(work, "sessions"),
                           test_days=a.test_days, memory_limit=a.memory_limit, train_types=a.train_events.split(","))
    steps.times["sessions"] = round(time.time() - t, 1)
    log(f"  {split.events:,} events ({split.duplicates:,} duplicates dropped), {split.first} → {split.last}; "
        f"test from {split.test_from}: {split.train_sessions:,} training sessions, {split.test_sessions:,} test "
        f"sessions ({split.test_cases:,} cases); co-purchase from {split.mining_source}")
    if split.train_sessions < 10 or split.test_cases == 0:
        sys.exit(f"edgerec-train: too little data to train and evaluate ({split.train_sessions} training sessions, "
                 f"{split.test_cases} test cases); give more weeks of events")

    sizes = defaults_for(split.items, split.train_sessions)
    model = os.path.join(work, "model")
    train_argv = [sys.executable, "-m", "edgerec_train.train", "--train", split.paths["train_sessions"],
                  "--test", split.paths["test_sessions"], "--dataset", a.name, "--out", model,
                  "--dim", str(a.dim or sizes["dim"]), "--epochs", str(a.epochs or sizes["epochs"])]
    if a.time_budget:
        train_argv += ["--time-budget", str(a.time_budget)]
    if a.limit:
        train_argv += ["--limit", str(a.limit)]
    steps.run("train the session encoder", train_argv)
    steps.run("parity: tract against PyTorch", [edgerec, "parity", f"{model}/encoder.onnx", f"{model}/parity.safetensors"])
    common = ["--table", f"{model}/table.safetensors", "--onnx", f"{model}/encoder.onnx",
              "--catalog", os.path.join(work, "import", "catalog.jsonl")] + (["--policy", a.policy] if a.policy else [])
    mine = "orders" if split.mining_source == "orders" else "train_sessions"
    steps.run("tune the blend on held-out sessions", [edgerec, "build", "--sessions", f"{model}/fit_sessions.txt",
                                                      *common, "--out", f"{work}/tuning.edgerec"], capture=True)
    steps.run("tune", [edgerec, "tune", f"{work}/tuning.edgerec", "--valid", f"{model}/valid.tsv",
                       "--out", f"{work}/tuned.json", "--limit", str(min(a.eval_limit, 20000))], capture=True)
    tuned = ["--tuned", f"{work}/tuned.json", "--card", f"{model}/card.json"]
    steps.run("build the evaluated bundle (training weeks only)",
              [edgerec, "build", "--sessions", split.paths[mine], *common, *tuned, "--out", f"{work}/evaluated.edgerec"],
              capture=True)
    evaluation = steps.run(f"evaluate on the last weeks (from {split.test_from})",
                           [edgerec, "eval", f"{work}/evaluated.edgerec", "--test", split.paths["test_sessions"],
                            "--train", split.paths["train_sessions"], "--limit", str(a.eval_limit)], capture=True)
    log(evaluation)
    mine_all = "all_orders" if split.mining_source == "orders" else "all_sessions"
    steps.run("build the shipped bundle (co-purchase and popularity from every week)",
              [edgerec, "build", "--sessions", split.paths[mine_all], *common, *tuned, "--out", a.out], capture=True)
    summary = write_summary(a, work, catalog, written, tally, split, quality_rows(evaluation), steps)
    log(summary)
    return 0


def write_summary(a, work, catalog, written, tally, split, quality, steps):
    size = os.path.getsize(a.out)
    card = json.load(open(os.path.join(work, "model", "card.json")))
    ours = quality.get("edgerec (shipped blend)")
    peers = {k: quality.get(k) for k in ("popularity", "item-kNN (last item)")}
    lines = [f"# {a.name}: the bundle {a.out}", "",
             "## What was imported",
             f"- {len(catalog.products):,} products{' (described by the events themselves: no product feed given)' if catalog.from_events else ''}; "
             f"{written:,} events: " + ", ".join(f"{n:,} {t}" for t, n in split.types.items()),
             f"- {split.first} to {split.last}; {split.duplicates:,} duplicated events dropped"
             + (f" (e.g. {', '.join(split.duplicate_examples)})" if split.duplicate_examples else ""),
             "- kept and dropped, by reason:", *tally.lines(), "",
             "## What the model read",
             f"- sessions: views, carts and purchases in time order, an item at its first event; "
             f"{split.train_sessions:,} training sessions before {split.test_from}, {split.test_sessions:,} test sessions after "
             f"({split.test_cases:,} next-item cases; {split.test_items_unseen:,} test events of items unseen in training left out)",
             f"- co-purchase and popularity: {split.mining_source} ({split.orders:,} orders, {split.multi_item_orders:,} with two items or more)",
             f"- encoder: {card['metrics'].get('dim')} dimensions, {card['metrics'].get('epochs')} epochs in "
             f"{card['metrics'].get('train_seconds')} s", "",
             "## Quality on the store's own last weeks (every item ranked, next item of each test session)",
             "| ranker | Recall@20 % | MRR@20 % |", "|---|---|---|"]
    for name, row in [("edgerec", ours), *peers.items()]:
        if row:
            lines.append(f"| {name} | {row[0]:.2f} | {row[1]:.2f} |")
    if ours and all(peers.values()):
        beats = all(ours[0] > p[0] and ours[1] > p[1] for p in peers.values())
        lines.append("")
        lines.append("edgerec beats both on Recall@20 and MRR@20." if beats else
                     "edgerec does NOT beat both baselines here: more data (weeks) or a look at the import counts may help.")
    lines += ["", "## The bundle",
              f"- {a.out}: {size / 1024:,.0f} KB, {split.items:,} items with a row in the model"
              + (f"; {len(catalog.products) - split.items:,} catalog products had no event in the training weeks "
                 "and are not recommended yet" if len(catalog.products) > split.items else ""),
              "- steps (seconds): " + ", ".join(f"{k} {v}" for k, v in steps.times.items()),
              f"- total {time.time() - steps.started:,.0f} s"]
    text = "\n".join(lines) + "\n"
    base = os.path.splitext(a.out)[0]
    with open(base + ".summary.md", "w") as f:
        f.write(text)
    with open(base + ".summary.json", "w") as f:
        json.dump({"imported": tally.as_json(), "split": {k: v for k, v in vars(split).items() if k != "paths"},
                   "quality": {k: {"recall20": v[0], "mrr20": v[1]} for k, v in quality.items()},
                   "bundle_bytes": size, "seconds": steps.times}, f, indent=2)
    return text
