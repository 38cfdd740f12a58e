"""Reference trainer: a session encoder that follows edgerec's model contract.

Contract (DESIGN §5, README "Model contract"): the ONNX graph is the encoder
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
from torch.nn.utils.rnn import pack_padded_sequence


class SessionEncoder(nn.Module):
    """GRU over item embeddings; the final hidden state, projected."""

    def __init__(self, dim: int):
        super().__init__()
        self.gru = nn.GRU(dim, dim, batch_first=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, embeddings, lengths=None):
        if lengths is None:  # the exported path: one session, no padding
            _, h = self.gru(embeddings)
        else:
            packed = pack_padded_sequence(embeddings, lengths.cpu(), batch_first=True, enforce_sorted=False)
            _, h = self.gru(packed)
        return self.proj(h[-1])


class Model(nn.Module):
    def __init__(self, n_items: int, dim: int):
        super().__init__()
        self.items = nn.Embedding(n_items, dim)
        nn.init.normal_(self.items.weight, std=0.05)
        self.encoder = SessionEncoder(dim)

    def forward(self, seqs, lengths):
        return self.encoder(self.items(seqs), lengths) @ self.items.weight.T


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


def prefixes(sessions, max_len):
    for s in sessions:
        for i in range(1, len(s)):
            yield s[max(0, i - max_len):i], s[i]


def batches(cases, batch_size, shuffle):
    order = list(range(len(cases)))
    if shuffle:
        random.shuffle(order)
    for start in range(0, len(order), batch_size):
        chunk = [cases[i] for i in order[start:start + batch_size]]
        lengths = torch.tensor([len(p) for p, _ in chunk])
        seqs = torch.zeros(len(chunk), int(lengths.max()), dtype=torch.long)
        for j, (p, _) in enumerate(chunk):
            seqs[j, :len(p)] = torch.tensor(p)
        yield seqs, lengths, torch.tensor([t for _, t in chunk])


@torch.no_grad()
def evaluate(model, cases, max_len, device, k=20):
    model.eval()
    hits, rr = 0.0, 0.0
    cases = [(p[-max_len:], t) for p, t in cases]
    for seqs, lengths, targets in batches(cases, 1024, shuffle=False):
        scores = model(seqs.to(device), lengths)
        target_scores = scores.gather(1, targets.to(device)[:, None])
        rank = (scores > target_scores).sum(1) + 1
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
    table = model.items.weight.detach().numpy().astype(np.float32)
    save_file({"item_embeddings": table}, os.path.join(out, "table.safetensors"),
              metadata={"item_ids": json.dumps(item_ids), "max_seq_len": str(max_len)})
    # Parity fixture: PyTorch's own session vectors for real sessions.
    cases = [s[-max_len:] for s in parity_sessions]
    inputs = np.zeros((len(cases), max_len, dim), np.float32)
    outputs = np.zeros((len(cases), dim), np.float32)
    with torch.no_grad():
        for c, rows in enumerate(cases):
            x = model.items.weight[torch.tensor(rows)][None]
            inputs[c, :len(rows)] = x[0].numpy()
            outputs[c] = enc(x)[0].numpy()
    save_file({"inputs": inputs, "lengths": np.array([len(r) for r in cases], np.int64), "outputs": outputs},
              os.path.join(out, "parity.safetensors"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True, help="sessions file: one per line, item ids")
    ap.add_argument("--test", help="sessions file, or prefix<TAB>target lines")
    ap.add_argument("--dataset", required=True, help="name for the model card")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--max-len", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training sessions (smoke tests)")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    random.seed(a.seed)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    train = read_sessions(a.train)
    if a.limit:
        train = train[:a.limit]
    item_ids = sorted({i for s in train for i in s})
    vocab = {i: r for r, i in enumerate(item_ids)}
    rows = [[vocab[i] for i in s] for s in train]
    cases = list(prefixes(rows, a.max_len))
    test = read_test(a.test, vocab) if a.test else []
    print(f"{len(item_ids)} items, {len(train)} sessions, {len(cases)} training prefixes, {len(test)} test cases, {device}")

    model = Model(len(item_ids), a.dim).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    started = time.time()
    for epoch in range(a.epochs):
        total, steps = 0.0, 0
        for seqs, lengths, targets in batches(cases, a.batch, shuffle=True):
            loss = loss_fn(model(seqs.to(device), lengths), targets.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, steps = total + loss.item(), steps + 1
        print(f"epoch {epoch + 1}: loss {total / steps:.4f} ({time.time() - started:.0f}s)", flush=True)
    metrics = evaluate(model, test, a.max_len, device) if test else {}
    print(f"test: {metrics}", flush=True)

    rng = random.Random(a.seed)
    export(model, a.out, item_ids, a.max_len, rng.sample(rows, min(32, len(rows))))
    card = {
        "dataset": a.dataset,
        "trained_at": datetime.date.today().isoformat(),
        "command": "python training/train.py " + " ".join(sys.argv[1:]),
        "metrics": {k: round(v, 3) for k, v in metrics.items()} | {"epochs": a.epochs, "dim": a.dim,
                                                                   "train_seconds": round(time.time() - started)},
        "notes": f"GRU session encoder, tied item table; {len(item_ids)} items; trained on {device}.",
    }
    with open(os.path.join(a.out, "card.json"), "w") as f:
        json.dump(card, f, indent=2)
    print(f"exported to {a.out}: {card['metrics']}")


if __name__ == "__main__":
    main()
