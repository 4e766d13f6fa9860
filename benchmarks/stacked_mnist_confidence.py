"""How sure gankit's MNIST classifier is of each Stacked-MNIST channel: generated samples vs the data.

A diagnostic for ``stacked_mnist.py``'s KL: for a run kept with ``stacked_mnist.py --keep DIR`` it
draws the benchmark's 26,000 EMA samples (same latents, seed 10,000 + the run's seed) and, per
channel and per predicted digit, reports the count, the classifier's mean top probability and the
fraction of samples it is less than 90 % sure of; for each channel also the most common
(predicted, second-choice) pairs among those unsure samples. ``--run data`` scores the training
set's own first 26,000 triples instead (the reference: real digits). A grid of the first 12
samples of channel 0 predicted as each digit (one row per digit) is written beside the record.

Appends one JSON line per invocation to ``<out>/confidence.jsonl``.

usage: python benchmarks/stacked_mnist_confidence.py --run /tmp/keep/pacdcgan2-seed0 --seed 0 [--name NAME] \
           [--data-dir ../shared/data] [--out benchmarks/results/stacked_mnist/confidence]
       python benchmarks/stacked_mnist_confidence.py --run data
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

from gankit.metrics.classifier import load_classifier, predict
from gankit.runs import load_run
from gankit.viz.grid import save_image_grid

sys.path.insert(0, os.path.dirname(__file__))
from records import append_record, log_invocation, run_main  # noqa: E402
from stacked_mnist import data_triples, scoring_latents  # noqa: E402

UNSURE = 0.9  # top probability below which a classification counts as unsure
GRID_PER_DIGIT = 12


def samples(run: str, seed: int, data_dir: str) -> torch.Tensor:
    """The 26,000 triples the benchmark scores: the data's or a kept run's EMA samples."""
    if run == "data":
        return data_triples(seed, data_dir)
    loaded = load_run(run)
    nets = loaded.nets(use_ema=True)
    return torch.cat([loaded.recipe.sample(nets, z) for z in scoring_latents(loaded.recipe, seed)])


def channel_report(probs: np.ndarray) -> dict:
    labels, top = probs.argmax(1), probs.max(1)
    second = np.argsort(probs, 1)[:, -2]
    unsure = top < UNSURE
    per_digit = [labels == k for k in range(probs.shape[1])]
    pairs = sorted(((int((m & (second == b) & unsure).sum()), a, int(b)) for a, m in enumerate(per_digit)
                    for b in range(probs.shape[1]) if b != a), reverse=True)[:6]
    return {"counts": [int(m.sum()) for m in per_digit],
            "mean_top_prob": [round(float(top[m].mean()), 4) if m.any() else None for m in per_digit],
            "unsure_fraction": [round(float(unsure[m].mean()), 4) if m.any() else None for m in per_digit],
            "unsure_overall": round(float(unsure.mean()), 4),
            "top_unsure_pairs": [{"predicted": a, "second": b, "n": n} for n, a, b in pairs]}


def save_grid(x: torch.Tensor, labels: np.ndarray, path: str) -> None:
    """Channel 0 of the first ``GRID_PER_DIGIT`` samples labelled each digit, one row per digit
    (black tiles where a digit has fewer)."""
    blank = torch.full((1, 28, 28), -1.0)
    tiles = []
    for k in range(10):
        idx = np.nonzero(labels == k)[0][:GRID_PER_DIGIT].tolist()
        tiles += [x[i, :1] for i in idx] + [blank] * (GRID_PER_DIGIT - len(idx))
    save_image_grid(torch.stack(tiles), path, nrow=GRID_PER_DIGIT, padding=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="a run kept by stacked_mnist.py --keep, or 'data'")
    ap.add_argument("--seed", type=int, default=0, help="the run's seed (its sampling latents), or the data seed")
    ap.add_argument("--name", help="the record's and grid's name (default: the run directory's name)")
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "stacked_mnist", "confidence"))
    args = ap.parse_args()
    log_invocation(args.out)
    x = samples(args.run, args.seed, args.data_dir)  # (26000, 3, 28, 28)
    clf = load_classifier("mnist")
    probs = [predict(clf, x[:, c : c + 1])[1] for c in range(x.shape[1])]
    name = args.name or ("data" if args.run == "data" else os.path.basename(os.path.normpath(args.run)))
    save_grid(x, probs[0].argmax(1), os.path.join(args.out, f"{name}-seed{args.seed}-channel0.png"))
    append_record(os.path.join(args.out, "confidence.jsonl"),
                  {"run": name, "seed": args.seed, "unsure_below": UNSURE,
                   "channels": [channel_report(p) for p in probs], "torch_threads": torch.get_num_threads()})


if __name__ == "__main__":
    run_main(main)
