"""gankit's tabular GAN (recipe ``tabgan``) against the ``ctgan`` package (Xu et al. 2019's own
implementation, its defaults) on real mixed-type tables: ML efficacy, column distances, CPU time.

Each table (``fair``: 6,366 rows, target ``affair``; ``anes96``: 944 rows, target ``vote``) is
split once (``--split-seed``) into 80 % training and 20 % held-out rows. For every seed both
models train on the same training rows for the same number of epochs (``--epochs``; an epoch is
``max(N_train // 500, 1)`` steps of batch 500 for both, as CTGAN counts them) and sample as many
rows as the training set has. Every record holds

* ML efficacy (``gankit.metrics.tables.ml_efficacy``): logistic regression and a depth-20
  decision tree trained on the synthetic rows, tested on the held-out real rows (binary F1 of
  the target's last category, accuracy); the row ``real`` trains them on the real training rows;
* the mean KS statistic over continuous columns and mean TV distance over categorical columns
  between the synthetic and the held-out rows, and the mean pairwise correlation difference;
* CPU seconds of fitting (``time.process_time``: transform fitting and training), with one torch thread.

``runs.jsonl`` gets one line per (table, method, seed); ``--summarise`` writes the markdown table
(mean ± s.e. over seeds) to ``<out>/summary.md``. Without ``ctgan`` installed it refuses.

usage: python benchmarks/tabular_ctgan.py --tables fair,anes96 --seeds 0,1,2 --epochs 300
       python benchmarks/tabular_ctgan.py --tables anes96 --seeds 0 --epochs 2 --out /tmp/tc   # smoke
       python benchmarks/tabular_ctgan.py --summarise
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict

import numpy as np
import torch

from gankit.data.statsmodels_tables import TARGETS, anes96_table, fair_table
from gankit.data.tables import (
    CONTINUOUS,
    as_dataset,
    decode_table,
    round_whole_numbers,
    table_from_dict,
    whole_number_columns,
)
from gankit.metrics.tables import CLASSIFIERS, column_distances, correlation_difference, ml_efficacy
from gankit.presets import load_preset
from gankit.train.trainer import Trainer

sys.path.insert(0, os.path.dirname(__file__))
from records import Refused, append_record, log_invocation, mean_se, read_records, run_main, write_summary  # noqa: E402

TABLES = {"fair": fair_table, "anes96": anes96_table}
METHODS = ("real", "gankit", "ctgan")
BATCH = 500  # CTGAN's default batch size, and the presets'
SAMPLE_SEED = 4321


def split(name: str, seed: int) -> tuple[dict, dict, list[dict]]:
    """Raw training and held-out rows ``{column: values}`` (80 / 20) and the full table's schema."""
    table = TABLES[name]()
    raw = decode_table(table.continuous, table.categorical, table.columns)
    round_whole_numbers(raw, whole_number_columns(raw, table.columns))  # the data's own values, not float32 noise
    n = table.continuous.shape[0]
    order = np.random.default_rng(seed).permutation(n)
    cut = int(0.8 * n)
    pick = lambda idx: {k: [v[i] for i in idx] for k, v in raw.items()}  # noqa: E731
    return pick(order[:cut]), pick(order[cut:]), table.columns


def fit_gankit(name: str, train: dict, columns: list[dict], epochs: int, seed: int) -> tuple[dict, float, int]:
    steps = epochs * max(len(train[columns[0]["name"]]) // BATCH, 1)
    cfg = load_preset(f"{name}-tabgan", [f"train.seed={seed}", f"train.steps={steps}", "train.progress=false",
                                         "train.checkpoint_every=0", "train.threads=1"])
    schema = [(c["name"], c["type"]) for c in columns]
    with tempfile.TemporaryDirectory() as tmp:
        cpu0 = time.process_time()
        trainer = Trainer(cfg, tmp, as_dataset(name, table_from_dict(train, schema, source=name)))
        while trainer.step < steps:
            trainer.train_step()
        cpu = time.process_time() - cpu0
        n = len(train[columns[0]["name"]])
        fake = trainer.recipe.sample_table(dict(trainer.recipe.modules.items()), n, SAMPLE_SEED)
    return fake, cpu, steps


def fit_ctgan(train: dict, columns: list[dict], epochs: int, seed: int) -> tuple[dict, float, int]:
    import pandas as pd
    from ctgan import CTGAN

    frame = pd.DataFrame(train)
    discrete = [c["name"] for c in columns if c["type"] != CONTINUOUS]
    model = CTGAN(epochs=epochs, batch_size=BATCH, enable_gpu=False)
    model.set_random_state(seed)
    cpu0 = time.process_time()
    model.fit(frame, discrete_columns=discrete)
    cpu = time.process_time() - cpu0
    fake = model.sample(len(frame))
    return {k: fake[k].tolist() for k in frame.columns}, cpu, epochs * max(len(frame) // BATCH, 1)


def score(fake: dict, train_real: dict, test: dict, columns: list[dict], target: str, seed: int) -> dict:
    dist = column_distances(test, fake, columns)
    cont = [c["name"] for c in columns if c["type"] == CONTINUOUS]
    cat = [c["name"] for c in columns if c["type"] != CONTINUOUS]
    return {**ml_efficacy(fake, test, columns, target, seed),
            "mean_ks": float(np.mean([dist[k] for k in cont])), "mean_tv": float(np.mean([dist[k] for k in cat])),
            "corr_diff": correlation_difference(test, fake, columns), "distances": dist}


def summarise(path: str) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in read_records(path):
        groups[r["table"], METHODS.index(r["method"]), r["method"], r["epochs"]].append(r)
    head = " | ".join(f"{c} F1" for c in CLASSIFIERS)
    lines = [f"| table | method | epochs | seeds | F1 (mean of classifiers) ↑ | {head} | mean KS ↓ | mean TV ↓ "
             "| corr. diff. ↓ | CPU s |", "|---|---|---|---|---|" + "---|" * len(CLASSIFIERS) + "---|---|---|---|"]
    for (table, _, method, epochs), rs in sorted(groups.items()):
        per = " | ".join(mean_se(r[f"{c}/f1"] for r in rs) for c in CLASSIFIERS)
        cpu = mean_se((r["cpu_s"] for r in rs), ".0f") if method != "real" else "-"
        lines.append(f"| {table} | {method} | {epochs if method != 'real' else '-'} | {len(rs)} "
                     f"| {mean_se(r['f1'] for r in rs)} | {per} | {mean_se(r['mean_ks'] for r in rs)} "
                     f"| {mean_se(r['mean_tv'] for r in rs)} | {mean_se(r['corr_diff'] for r in rs)} | {cpu} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", default=",".join(TABLES))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--epochs", type=int, default=300, help="training epochs of both models (CTGAN's default 300)")
    ap.add_argument("--split-seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "tabular_ctgan"))
    ap.add_argument("--summarise", action="store_true", help="print the table of <out>/runs.jsonl and exit")
    args = ap.parse_args()
    if args.summarise:
        write_summary(args.out, summarise(os.path.join(args.out, "runs.jsonl")))
        return
    tables, methods = args.tables.split(","), args.methods.split(",")
    for t in tables:
        if t not in TABLES:
            raise Refused(f"--tables: unknown {t!r} (known: {', '.join(TABLES)})")
    for m in methods:
        if m not in METHODS:
            raise Refused(f"--methods: unknown {m!r} (known: {', '.join(METHODS)})")
    if args.epochs < 1:
        raise Refused(f"--epochs must be >= 1, got {args.epochs}")
    if "ctgan" in methods:
        try:
            import ctgan  # noqa: F401
        except ImportError:
            raise Refused("the ctgan package is not installed (pip install ctgan: a benchmark-only "
                          "dependency)") from None
    torch.set_num_threads(1)
    path = log_invocation(args.out, torch_threads=1)
    for t in tables:
        train, test, columns = split(t, args.split_seed)
        for seed in [int(s) for s in args.seeds.split(",")]:
            for m in methods:
                torch.manual_seed(seed)
                if m == "real":
                    fake, cpu, steps = train, 0.0, 0
                elif m == "gankit":
                    fake, cpu, steps = fit_gankit(t, train, columns, args.epochs, seed)
                else:
                    fake, cpu, steps = fit_ctgan(train, columns, args.epochs, seed)
                rec = {"table": t, "method": m, "seed": seed, "epochs": args.epochs, "steps": steps,
                       "split_seed": args.split_seed, "n_train": len(train[columns[0]["name"]]),
                       "cpu_s": round(cpu, 1), **score(fake, train, test, columns, TARGETS[t], seed)}
                append_record(path, rec)


if __name__ == "__main__":
    run_main(main)
