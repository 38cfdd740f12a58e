"""Reference trainer: a session encoder that follows edgerec's model contract.

Contract (docs/design.md §5, docs/models.md): the ONNX graph is the encoder
only -- input `embeddings` float32 [1, L, d] (the last L items' rows of the
item table, oldest first; L dynamic), output `session` float32 [1, d]. Items
are scored by edgerec as dot products with the same (tied) table.

Trains next-item prediction with full softmax over the catalog on every
prefix of every training session, evaluates Recall@20 / MRR@20 on the test
prefixes, and writes into OUT:
  encoder.onnx           the encoder, exported with tract-friendly settings
  table.safetensors      item_embeddings [n, d] + item_ids, max_seq_len
  parity.safetensors     PyTorch inputs/outputs for the tract parity check
  card.json              the model card (data, date, command, metrics)
"""
import argparse
import datetime
import json
import os
import random
import sys
import time

import numpy as np
import torch
from safetensors.numpy import save_file
from torch import nn
from tqdm import tqdm


class SessionEncoder(nn.Module):
    """NARM-style encoder with normalised outputs (NISER).

    A GRU reads the item rows; its last state is the shopper's overall
    intent, an attention-weighted sum of all its states the local one
    (Li et al., NARM, 2017); the attention's keys carry reversed position
    embeddings (steps back from the latest item, as in GCE-GNN), and the
    latest item's own row joins the mix. All are mixed into one vector,
    L2-normalised and scaled: with unit-norm item rows, the engine's dot
    product is then a scaled cosine, which ranks the long tail far better
    (Gupta et al., NISER, 2019). After the GRU come only element-wise ops,
    MatMul, reductions and one slice of the position rows by the input's
    length, so the sequence length stays symbolic for tract.
    """

    def __init__(self, dim: int, scale: float, dropout: float, positions: int = 0, last_item: bool = False):
        super().__init__()
        self.gru = nn.GRU(dim, dim, batch_first=True)
        # Reversed positions (GCE-GNN): row j is the item max_len - 1 - j
        # steps before the latest, so the last L rows are a session's own.
        self.pos = nn.Parameter(torch.zeros(positions, dim)) if positions else None
        self.last_item = last_item
        self.query = nn.Linear(dim, dim, bias=False)
        self.key = nn.Linear(dim, dim, bias=False)
        self.energy = nn.Linear(dim, 1, bias=False)
        self.mix = nn.Linear((3 if last_item else 2) * dim, dim, bias=False)
        self.drop = nn.Dropout(dropout)
        self.scale = scale

    def head(self, last, local, item):
        parts = [last, local, item] if self.last_item else [last, local]
        s = self.mix(self.drop(torch.cat(parts, -1)))
        return self.scale * s / s.norm(dim=-1, keepdim=True).clamp_min(1e-6)

    def forward(self, embeddings):
        """The exported path: one session [1, L, d] -> [1, d]."""
        states, h = self.gru(embeddings)
        last = h[-1]
        keys = self.key(states)
        if self.pos is not None:
            keys = keys + self.key(self.pos[-embeddings.shape[1]:])
        weights = self.energy(torch.sigmoid(self.query(last)[:, None, :] + keys))
        return self.head(last, (weights * states).sum(1), embeddings[:, -1])

    def every_prefix(self, embeddings):
        """Training: [B, T, d] -> [B, T, d], position t encoding items 0..t.
        The GRU is causal; the attention of step t is masked to steps <= t,
        so padding after a sequence never reaches it."""
        states, _ = self.gru(embeddings)
        t = states.shape[1]
        pre = self.query(states)[:, :, None, :] + self.key(states)[:, None, :, :]
        if self.pos is not None:
            n = self.pos.shape[0]
            steps = torch.arange(t, device=states.device)
            back = (steps[:, None] - steps[None, :]).clamp(0, n - 1)  # [t, s]: s's steps before t
            pre = pre + self.key(self.pos)[n - 1 - back][None]
        energy = self.energy(torch.sigmoid(pre))
        causal = torch.tril(torch.ones(t, t, device=states.device))
        local = (energy.squeeze(-1) * causal) @ states
        return self.head(states, local, embeddings)


# A sampled negative that is the row's own target: no softmax reaches it
# (exp(-1e4) is 0 in float32), and unlike -inf it leaves the label-smoothed
# loss finite (it adds smoothing / (1 + S) x 1e4 to the printed loss per such
# negative; no gradient flows through it).
MASKED_LOGIT = -1e4


class Model(nn.Module):
    def __init__(self, n_items: int, dim: int, scale: float, dropout: float, positions: int = 0, last_item: bool = False):
        super().__init__()
        self.items = nn.Embedding(n_items, dim)
        nn.init.normal_(self.items.weight, std=1.0 / dim ** 0.5)
        self.encoder = SessionEncoder(dim, scale, dropout, positions, last_item)
        self.drop = nn.Dropout(dropout)

    def table(self):
        """Unit-norm item rows: what the encoder reads and the engine scores."""
        w = self.items.weight
        return w / w.norm(dim=-1, keepdim=True).clamp_min(1e-6)

    def forward(self, seqs, mask, negatives=None, log_q=None):
        """Logits and labels at every target position. Full softmax: [N, n]
        over the catalog, labels the targets. Sampled: [N, 1 + S], the
        target first, then S shared negatives drawn with probabilities q,
        their logits corrected by -log(S q) so the sum over them estimates
        the catalog's (importance sampling); a negative that is the target
        is masked out (MASKED_LOGIT)."""
        table = self.table()
        sessions = self.encoder.every_prefix(self.drop(table[seqs]))[:, :-1][mask]
        targets = seqs[:, 1:][mask]
        if negatives is None:
            return sessions @ table.T, targets
        positive = (sessions * table[targets]).sum(-1, keepdim=True)
        sampled = sessions @ table[negatives].T - log_q
        sampled = sampled.masked_fill(negatives[None, :] == targets[:, None], MASKED_LOGIT)
        return torch.cat([positive, sampled], 1), torch.zeros_like(targets)


def read_sessions(path):
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


def read_test(path, vocab):
    """Either `prefix<TAB>target` lines or whole sessions (every prefix)."""
    cases = []
    with open(path) as f:
        for line in f:
            if "\t" in line:
                prefix, target = line.rstrip("\n").split("\t")
                cases.append((prefix.split(), target))
            else:
                s = line.split()
                cases.extend((s[:i], s[i]) for i in range(1, len(s)))
    keep = [([vocab[i] for i in p if i in vocab], vocab.get(t)) for p, t in cases]
    return [(p, t) for p, t in keep if p and t is not None]


def windows(sessions, max_len, stride):
    """Training windows of at most max_len + 1 items and the position of
    each one's first target. A session is read from its start; one longer
    than max_len + 1 continues in windows that step `stride` items at a time,
    each predicting the items the one before it did not, from at least
    max_len + 1 - stride predecessors (stride 1: every item from exactly
    max_len, as the engine reads them; larger strides cut the windows of
    long baskets many times over)."""
    for s in sessions:
        if len(s) < 2:
            continue
        yield s[:max_len + 1], 0
        covered = max_len + 1
        while covered < len(s):
            end = min(covered + stride, len(s))
            start = end - max_len - 1
            yield s[start:end], covered - start - 1
            covered = end


def batches(cases, batch_size, shuffle):
    """Padded batches of (items, first target position); sequences of
    similar length share a batch so little is padding."""
    order = sorted(range(len(cases)), key=lambda i: len(cases[i][0]))
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        random.shuffle(chunks)
    for chunk in chunks:
        longest = max(len(cases[i][0]) for i in chunk)
        seqs = torch.zeros(len(chunk), longest, dtype=torch.long)
        mask = torch.zeros(len(chunk), longest - 1, dtype=torch.bool)
        for j, i in enumerate(chunk):
            items, first = cases[i]
            seqs[j, :len(items)] = torch.tensor(items)
            mask[j, first:len(items) - 1] = True
        yield seqs, mask


@torch.no_grad()
def evaluate(model, cases, max_len, device, k=20):
    """Recall@k and MRR@k of every (prefix, target), the prefix cut to its
    last max_len items as the engine does."""
    model.eval()
    hits, rr = 0.0, 0.0
    windows_ = [(p[-max_len:] + [t], len(p[-max_len:]) - 1) for p, t in cases]
    table = model.table()
    for seqs, mask in batches(windows_, 1024, shuffle=False):
        seqs = seqs.to(device)
        enc = model.encoder.every_prefix(table[seqs])
        last = mask.long().argmax(1)  # the one target position of each window
        rows = torch.arange(len(seqs))
        sessions = enc[rows, last.to(device)]
        targets = seqs[rows, last.to(device) + 1]
        scores = sessions @ table.T
        rank = (scores > scores.gather(1, targets[:, None])).sum(1) + 1
        hits += (rank <= k).sum().item()
        rr += torch.where(rank <= k, 1.0 / rank.float(), torch.zeros_like(rank, dtype=torch.float)).sum().item()
    model.train()
    return {"recall@20": 100 * hits / len(cases), "mrr@20": 100 * rr / len(cases), "test_cases": len(cases)}


def export(model, out, item_ids, max_len, parity_sessions):
    model.eval().cpu()
    enc = model.encoder
    dim = model.items.weight.shape[1]
    dummy = torch.randn(1, 3, dim)
    path = os.path.join(out, "encoder.onnx")
    # Legacy exporter, no constant folding: tract handles its GRU and the
    # dynamic length (notes/RUNTIMES.md).
    torch.onnx.export(enc, (dummy,), path, input_names=["embeddings"], output_names=["session"],
                      dynamic_axes={"embeddings": {1: "L"}}, opset_version=17,
                      do_constant_folding=False, dynamo=False)
    table = model.table().detach().numpy().astype(np.float32)
    save_file({"item_embeddings": table}, os.path.join(out, "table.safetensors"),
              metadata={"item_ids": json.dumps(item_ids), "max_seq_len": str(max_len)})
    # Parity fixture: PyTorch's own session vectors for real sessions.
    cases = [s[-max_len:] for s in parity_sessions]
    inputs = np.zeros((len(cases), max_len, dim), np.float32)
    outputs = np.zeros((len(cases), dim), np.float32)
    with torch.no_grad():
        for c, rows in enumerate(cases):
            x = model.table()[torch.tensor(rows)][None]
            inputs[c, :len(rows)] = x[0].numpy()
            outputs[c] = enc(x)[0].numpy()
    save_file({"inputs": inputs, "lengths": np.array([len(r) for r in cases], np.int64), "outputs": outputs},
              os.path.join(out, "parity.safetensors"))


def write_split(out, item_ids, fit, valid):
    """The sessions the model was fitted on and the held-out cases, in the
    data set's own ids: `edgerec tune` picks the blend and the table format
    on a bundle mined from the first and evaluated on the second."""
    with open(os.path.join(out, "fit_sessions.txt"), "w") as f:
        f.writelines(" ".join(item_ids[i] for i in s) + "\n" for s in fit)
    with open(os.path.join(out, "valid.tsv"), "w") as f:
        f.writelines(" ".join(item_ids[i] for i in p) + "\t" + item_ids[t] + "\n" for p, t in valid)


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True, help="sessions file: one per line, item ids")
    ap.add_argument("--test", help="sessions file, or prefix<TAB>target lines")
    ap.add_argument("--dataset", required=True, help="name for the model card")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--max-len", type=int, default=20)
    ap.add_argument("--stride", type=int, default=0,
                    help="items a window of a long session steps (0: half of --max-len)")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=256, help="sessions per step (each brings all its prefixes)")
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--lr-decay", type=float, default=0.75, help="learning rate factor per epoch")
    ap.add_argument("--time-budget", type=float, default=0,
                    help="minutes: start no epoch that would end past this (0: no limit)")
    ap.add_argument("--negatives", type=int, default=4096,
                    help="sampled softmax over this many shared negatives a step "
                         "(0, or at least the catalog's size: full softmax)")
    ap.add_argument("--scale", type=float, default=12.0, help="logit scale of the normalised scores")
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--valid", type=float, default=0.05,
                    help="share of the training sessions (the last ones) held out to pick the epoch")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training sessions (smoke tests)")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--positions", action=argparse.BooleanOptionalAction, default=True,
                    help="reversed position embeddings in the attention (GCE-GNN)")
    ap.add_argument("--last-item", action=argparse.BooleanOptionalAction, default=True,
                    help="the latest item's own row in the session vector's mix")
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    return ap.parse_args()


def load_data(a):
    """Item ids, all training rows, the fitting windows, the validation and test cases."""
    train = read_sessions(a.train)
    if a.limit:
        train = train[:a.limit]
    item_ids = sorted({i for s in train for i in s})
    vocab = {i: r for r, i in enumerate(item_ids)}
    rows = [[vocab[i] for i in s] for s in train]
    held = int(len(rows) * a.valid) if a.valid > 0 and len(rows) >= 20 else 0
    fit, valid_rows = rows[:len(rows) - held], rows[len(rows) - held:]
    valid = [(s[:i], s[i]) for s in valid_rows for i in range(1, len(s))]
    test = read_test(a.test, vocab) if a.test else []
    return item_ids, rows, fit, valid, test


def negative_sampler(fit, n_items, negatives, device):
    """A function giving each step's shared negatives and their -log(S q)
    corrections (None, None: full softmax). Negatives are drawn by item
    frequency ^ 0.75 (word2vec's)."""
    if not negatives:
        return lambda: (None, None)
    counts = torch.bincount(torch.tensor([i for s in fit for i in s]), minlength=n_items).float()
    q = (counts + 1) ** 0.75
    q = (q / q.sum()).to(device)
    log_sq = torch.log(negatives * q)

    def sample():
        drawn = torch.multinomial(q, negatives, replacement=True)
        return drawn, log_sq[drawn]
    return sample


def fit_model(a, model, cases, valid, sample_negatives, device):
    """Train epoch by epoch within the time budget; keep the epoch with the
    best validation MRR@20. Returns (best epoch, history, seconds)."""
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=a.label_smoothing)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, a.lr_decay)
    started = time.time()
    best, best_epoch, best_state, history = None, 0, None, []
    for epoch in range(a.epochs):
        elapsed = time.time() - started
        if a.time_budget and epoch and elapsed * (epoch + 1) / epoch > 60 * a.time_budget:
            print(f"stopping after {epoch} epochs: another would pass the {a.time_budget} min budget", flush=True)
            break
        total, steps = 0.0, 0
        steps_total = -(-len(cases) // a.batch)
        bar = tqdm(batches(cases, a.batch, shuffle=True), total=steps_total, desc=f"epoch {epoch + 1}",
                   unit=" steps", disable=None, leave=False)
        for seqs, mask in bar:
            logits, targets = model(seqs.to(device), mask.to(device), *sample_negatives())
            loss = loss_fn(logits, targets)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, steps = total + loss.item(), steps + 1
        sched.step()
        score = evaluate(model, valid, a.max_len, device) if valid else {}
        history.append({"epoch": epoch + 1, "loss": round(total / steps, 4), "seconds": round(time.time() - started)}
                       | {f"valid_{k}": round(v, 3) for k, v in score.items() if k != "test_cases"})
        print(history[-1], flush=True)
        if not valid or best is None or score["mrr@20"] > best:
            best, best_epoch = score.get("mrr@20"), epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return best_epoch, history, round(time.time() - started)


def model_card(a, item_ids, metrics, history, best_epoch, train_seconds, device):
    return {
        "dataset": a.dataset,
        "trained_at": datetime.date.today().isoformat(),
        "command": "python -m edgerec_train.train " + " ".join(sys.argv[1:]),
        "metrics": {k: round(v, 3) for k, v in metrics.items()} | {"epochs": len(history), "best_epoch": best_epoch, "dim": a.dim,
                                                                   "train_seconds": train_seconds},
        "hyperparameters": {k: v for k, v in vars(a).items() if k not in ("train", "test", "out", "dataset")},
        "history": history,
        "notes": f"NARM-style GRU + attention encoder{' with reversed positions' if a.positions else ''}"
                 f"{', the latest item in its mix' if a.last_item else ''}, normalised (NISER) scores, tied unit-norm item table; "
                 f"label smoothing {a.label_smoothing}; "
                 f"{len(item_ids)} items; "
                 f"{f'sampled softmax, {a.negatives} negatives a step' if a.negatives else 'full softmax'}; epoch picked on the last {a.valid:.0%} of training sessions; "
                 f"trained on {device}.",
    }


def main():
    a = parse_args()
    random.seed(a.seed)
    torch.manual_seed(a.seed)
    if a.threads:
        torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    item_ids, rows, fit, valid, test = load_data(a)
    cases = list(windows(fit, a.max_len, a.stride or max(1, a.max_len // 2)))
    targets = sum(len(items) - 1 - first for items, first in cases)
    print(f"{len(item_ids)} items, {len(fit)} sessions ({targets} targets) + {len(valid)} validation cases, "
          f"{len(test)} test cases, {device}, {torch.get_num_threads()} threads", flush=True)

    if a.negatives >= len(item_ids):
        a.negatives = 0
    model = Model(len(item_ids), a.dim, a.scale, a.dropout, a.max_len if a.positions else 0, a.last_item).to(device)
    sample_negatives = negative_sampler(fit, len(item_ids), a.negatives, device)
    best_epoch, history, train_seconds = fit_model(a, model, cases, valid, sample_negatives, device)
    metrics = evaluate(model, test, a.max_len, device) if test else {}
    print(f"test: {metrics}", flush=True)

    rng = random.Random(a.seed)
    export(model, a.out, item_ids, a.max_len, rng.sample(rows, min(32, len(rows))))
    write_split(a.out, item_ids, fit, valid)
    card = model_card(a, item_ids, metrics, history, best_epoch, train_seconds, device)
    with open(os.path.join(a.out, "card.json"), "w") as f:
        json.dump(card, f, indent=2)
    print(f"exported to {a.out}: {card['metrics']}")


if __name__ == "__main__":
    main()
