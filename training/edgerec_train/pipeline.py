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


# How often two items must be seen together to count as bought together. A small or sparse
# store needs 1 or 2 (on the Taobao sample, 3 left item-kNN far ahead: Recall@20 2.6 against
# 13.4, and 1 put edgerec ahead, 15.8); a large one is better off with 3 (less noise, smaller).
MIN_SUPPORTS = (3, 2, 1)


def pick_min_support(steps, edgerec, model, work, common, cases=5000):
    """The co-purchase support that ranks held-out sessions best (Recall@20 + MRR@20 of the
    untuned blend), each candidate mined from the fitted sessions only."""
    scores = {}
    for support in MIN_SUPPORTS:
        bundle = f"{work}/support-{support}.edgerec"
        steps.run(f"co-purchase support {support}: build", [edgerec, "build", "--sessions", f"{model}/fit_sessions.txt",
                                                            *common, "--min-support", str(support), "--out", bundle],
                  capture=True)
        out = steps.run(f"co-purchase support {support}: held-out cases",
                        [edgerec, "eval", bundle, "--test", f"{model}/valid.tsv", "--limit", str(cases)], capture=True)
        row = quality_rows(out).get("edgerec (shipped blend)", (0.0, 0.0))
        scores[support] = row[0] + row[1]
        os.remove(bundle)
    best = max(scores, key=lambda s: (scores[s], s))
    steps.log("  co-purchase support (held-out Recall@20 + MRR@20): "
              + ", ".join(f"{s}: {v:.2f}" for s, v in scores.items()) + f"; {best} chosen")
    return best


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


def evaluated_cases(eval_output):
    """`edgerec eval`'s first line: "N test cases, M items in BUNDLE"."""
    m = re.match(r"(\d+) test cases", eval_output.strip())
    return int(m[1]) if m else 0


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
    split.min_support = pick_min_support(steps, edgerec, model, work, common)
    common += ["--min-support", str(split.min_support)]
    steps.run("build the tuning bundle", [edgerec, "build", "--sessions", f"{model}/fit_sessions.txt",
                                          *common, "--out", f"{work}/tuning.edgerec"], capture=True)
    steps.run("tune the blend on held-out sessions", [edgerec, "tune", f"{work}/tuning.edgerec", "--valid", f"{model}/valid.tsv",
                       "--out", f"{work}/tuned.json", "--limit", str(min(a.eval_limit, 20000))], capture=True)
    tuned = ["--tuned", f"{work}/tuned.json", "--card", f"{model}/card.json"]
    steps.run("build the evaluated bundle (training weeks only)",
              [edgerec, "build", "--sessions", split.paths[mine], *common, *tuned, "--out", f"{work}/evaluated.edgerec"],
              capture=True)
    evaluation = steps.run(f"evaluate on the last weeks (from {split.test_from})",
                           [edgerec, "eval", f"{work}/evaluated.edgerec", "--test", split.paths["test_sessions"],
                            "--train", split.paths["train_sessions"], "--limit", str(a.eval_limit)], capture=True)
    log(evaluation)
    conversions = ""
    if split.conversion_cases:
        conversions = steps.run("evaluate on the next item carted or bought",
                                [edgerec, "eval", f"{work}/evaluated.edgerec", "--test", split.paths["test_conversions"],
                                 "--train", split.paths["train_sessions"], "--limit", str(a.eval_limit)], capture=True)
        log(conversions)
    mine_all = "all_orders" if split.mining_source == "orders" else "all_sessions"
    steps.run("build the shipped bundle (co-purchase and popularity from every week)",
              [edgerec, "build", "--sessions", split.paths[mine_all], *common, *tuned, "--out", a.out], capture=True)
    split.evaluated_cases = evaluated_cases(evaluation)
    summary = write_summary(a, work, catalog, written, tally, split, quality_rows(evaluation), steps,
                            quality_rows(conversions))
    log(summary)
    return 0


def quality_table(quality):
    """The summary's comparison: edgerec, popularity and item-kNN, and whether edgerec beats both."""
    ours = quality.get("edgerec (shipped blend)")
    peers = {k: quality.get(k) for k in ("popularity", "item-kNN (last item)")}
    lines = ["| ranker | Recall@20 % | MRR@20 % |", "|---|---|---|"]
    for name, row in [("edgerec", ours), *peers.items()]:
        if row:
            lines.append(f"| {name} | {row[0]:.2f} | {row[1]:.2f} |")
    if ours and all(peers.values()):
        beats = all(ours[0] > p[0] and ours[1] > p[1] for p in peers.values())
        lines += ["", "edgerec beats both on Recall@20 and MRR@20." if beats else
                  "edgerec does NOT beat both baselines here: more data (weeks) or a look at the import counts may help."]
    return lines


def write_summary(a, work, catalog, written, tally, split, quality, steps, conversion_quality=None):
    size = os.path.getsize(a.out)
    card = json.load(open(os.path.join(work, "model", "card.json")))
    lines = [f"# {a.name}: the bundle {a.out}", "",
             "## What was imported",
             f"- {len(catalog.products):,} products{' (described by the events themselves: no product feed given)' if catalog.from_events else ''}; "
             f"{written:,} events: " + ", ".join(f"{n:,} {t}" for t, n in split.types.items()),
             f"- {split.first} to {split.last}; {split.duplicates:,} duplicated events dropped"
             + (f" (e.g. {', '.join(split.duplicate_examples)})" if split.duplicate_examples else ""),
             "- kept and dropped, by reason:", *tally.lines(), "",
             "## What the model read",
             f"- training sessions: {a.train_events.replace(',', ', ')} events in time order, an item at its "
             f"first event (test sessions: every type); "
             f"{split.train_sessions:,} training sessions before {split.test_from}, {split.test_sessions:,} test sessions after "
             f"({split.test_cases:,} next-item cases; {split.test_items_unseen:,} test events of items unseen in training left out)",
             f"- co-purchase and popularity: {split.mining_source} ({split.orders:,} orders, {split.multi_item_orders:,} with two items or more); "
             f"pairs seen together at least {split.min_support} times (chosen on held-out sessions)",
             f"- encoder: {card['metrics'].get('dim')} dimensions, {card['metrics'].get('epochs')} epochs in "
             f"{card['metrics'].get('train_seconds')} s", "",
             "## Quality on the store's own last weeks",
             f"Every item ranked for the next item of each test session: {split.evaluated_cases:,} cases"
             + (f" (the first of {split.test_cases:,}; `--eval-limit`)" if split.evaluated_cases < split.test_cases else "")
             + ".", "",
             *quality_table(quality)]
    if conversion_quality:
        lines += ["", f"The next item the shopper carts or buys ({split.conversion_cases:,} cases):", "",
                  *quality_table(conversion_quality)]
    lines += ["", "## The bundle",
              f"- {a.out}: {size / 1024:,.0f} KB, {split.items:,} items learned from sessions"
              + (f"; {len(catalog.products) - split.items:,} catalog products had no event in the training weeks: "
                 "each is placed from its words (title, category, brand, price band) beside the learned items it "
                 "reads like, and recommended, with at most a quarter of a list's places ahead of learned items"
                 if len(catalog.products) > split.items else ""),
              "- steps (seconds): " + ", ".join(f"{k} {v}" for k, v in steps.times.items()),
              f"- total {time.time() - steps.started:,.0f} s"]
    text = "\n".join(lines) + "\n"
    base = os.path.splitext(a.out)[0]
    with open(base + ".summary.md", "w") as f:
        f.write(text)
    with open(base + ".summary.json", "w") as f:
        json.dump({"imported": tally.as_json(), "split": {k: v for k, v in vars(split).items() if k != "paths"},
                   "quality": {k: {"recall20": v[0], "mrr20": v[1]} for k, v in quality.items()},
                   "conversion_quality": {k: {"recall20": v[0], "mrr20": v[1]}
                                          for k, v in (conversion_quality or {}).items()},
                   "bundle_bytes": size, "seconds": steps.times}, f, indent=2)
    return text
