"""Mode collapse on the 2-D mixtures with the PacGAN protocol (Lin et al. 2018, Table 1).

Data: ring (8 modes, radius 1, sigma 0.01) and grid (25 modes, {-4,...,4}^2 step 2, sigma 0.05),
the ``ring-gan`` / ``grid-gan`` presets' data. Score: 2,500 samples from the (EMA) generator;
high quality (HQ) = within 3 sigma of the nearest mode; modes = modes with >= 1 HQ sample;
reverse KL = KL(HQ mode histogram || uniform) (``gankit.metrics.mode_coverage``).

ONE architecture and budget for every method (stated here, overridable only as a whole):
  MLP G and D, 3 hidden layers x 128, z_dim 2, D without normalisation (d_norm none),
  batch 256, Adam lr 1e-3 (G and D) beta1 0.5, EMA 0.999 on G, ``--steps`` generator steps
  (default 2000); a method changes only its recipe/objective options (table METHODS).
``--set KEY=VALUE`` (repeatable) changes that configuration for every method of a sweep (e.g. a
method's best configuration: more steps with ``optim.lr_decay=linear``, the lever of the tuned
``ring-sharp`` / ``grid-sharp`` presets); the overrides are recorded and name the table's row.
CPU seconds = process CPU time of the training call (all threads; torch threads as set).

Each run appends one JSON line to ``<out>/runs.jsonl`` as soon as it finishes, so a partial
sweep keeps its runs; ``--summarise`` prints the markdown table (mean ± s.e. over seeds; ring
and grid side by side) of the lines in that file (and writes it to ``<out>/summary.md``); ``--best``
prints each method's best configuration among those recorded (most modes, then most HQ samples, then
least reverse KL; written to ``<out>/best.md``).

usage: python benchmarks/mode_collapse_2d.py --methods all|ns,minimax,pacgan2,unrolled,wgan-gp \
           --datasets ring,grid --seeds 0,1,2 [--steps 2000] [--set KEY=VALUE ...] \
           [--out benchmarks/results/mode_collapse_2d]
       python benchmarks/mode_collapse_2d.py --summarise
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import torch

from gankit.config import apply_overrides
from gankit.errors import GankitError
from gankit.experiment import config_from_dict
from gankit.metrics import mode_coverage
from gankit.presets import preset_tree
from gankit.runs import load_run, train

sys.path.insert(0, os.path.dirname(__file__))
from records import append_record, log_invocation, read_records, run_main, write_summary  # noqa: E402
from records import mean_se as _mean_se  # noqa: E402

PRESETS = {"ring": "ring-gan", "grid": "grid-gan"}
ARCHITECTURE = [  # the fixed comparison architecture and budget (besides --steps)
    "model.arch=mlp", "model.z_dim=2", "model.g_width=128", "model.d_width=128", "model.mlp_layers=3",
    "model.d_norm=none", "train.batch_size=256", "optim.lr_g=1e-3", "optim.lr_d=1e-3", "optim.beta1=0.5",
    "train.ema_decay=0.999",
]
AE_D = ["model.d_arch=autoencoder", "model.ae_code_dim=32"]

# method -> (recipe table, extra overrides)
METHODS: dict[str, tuple[dict, list[str]]] = {
    "minimax": ({"name": "gan", "loss": "minimax"}, []),
    "ns": ({"name": "gan", "loss": "ns"}, []),
    "lsgan": ({"name": "gan", "loss": "lsgan"}, []),
    "wgan": ({"name": "gan", "loss": "wgan", "clip_value": 0.01, "n_critic": 5}, []),
    "wgan-gp": ({"name": "gan", "loss": "wgan", "gp_weight": 10.0, "n_critic": 5}, []),
    "hinge-sn": ({"name": "gan", "loss": "hinge"}, ["model.d_spectral_norm=true"]),
    **{
        f"fgan-{d}": ({"name": "gan", "loss": f"fgan-{d}"}, [])
        for d in ("kl", "rkl", "js", "pearson", "hellinger", "tv")
    },
    "fisher": ({"name": "fisher"}, []),
    "ebgan": ({"name": "ebgan"}, AE_D),
    "began": ({"name": "began"}, AE_D),
    "magan": ({"name": "magan"}, AE_D),
    "dragan": ({"name": "gan", "loss": "ns", "dragan_weight": 10.0}, []),
    "feature-matching": ({"name": "gan", "loss": "ns", "fm_weight": 1.0}, []),
    # 16 kernels x 4, not Salimans et al.'s 100 x 5: the layer costs O(N^2 B C) at batch 256, and 100 x 5 made
    # a run many times dearer than the other methods' (those aborted runs are not in the raw file)
    "minibatch-disc": ({"name": "gan", "loss": "ns"}, ["model.d_minibatch=discrimination", "model.mbd_kernels=16",
                                                       "model.mbd_kernel_dim=4"]),
    "pacgan2": ({"name": "gan", "loss": "ns", "pack": 2}, []),
    "pacgan4": ({"name": "gan", "loss": "ns", "pack": 4}, []),
    "unrolled": ({"name": "unrolled", "loss": "ns", "unroll_steps": 5}, []),
    "mrgan": ({"name": "mrgan", "loss": "ns"}, []),
    "madgan": ({"name": "madgan", "generators": 2, "diversity_weight": 1.0}, []),
}


def build_config(method: str, dataset: str, seed: int, steps: int, out_dir: str, extra_set: Sequence[str] = ()):
    recipe, extra = METHODS[method]
    tree = preset_tree(PRESETS[dataset])
    tree["recipe"] = dict(recipe)
    overrides = [*ARCHITECTURE, *extra, *extra_set, f"train.steps={steps}", f"train.seed={seed}",
                 f"train.out_dir={out_dir}", "train.run_name=run", "train.progress=false", "train.sample_every=0",
                 "train.checkpoint_every=0", "train.log_every=100"]
    return config_from_dict(apply_overrides(tree, overrides))


def train_and_score(cfg, seed: int) -> dict:
    """Train ``cfg`` (process CPU and wall seconds) and score 2,500 EMA samples drawn with seed
    ``10_000 + seed``; a run whose samples are not finite is scored as covering nothing."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = train(cfg)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if not result.completed:  # SIGINT/SIGTERM: the trainer stopped early; never score a partial run
        raise SystemExit("interrupted: this run is not recorded")
    run = load_run(result.run_dir)
    samples = run.sample(2500, seed=10_000 + seed).numpy()  # (2500, 2)
    rec = {"of": len(run.data["mode_centres"]), "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
           "torch_threads": torch.get_num_threads()}
    if not np.isfinite(samples).all():  # training diverged
        return {**rec, "modes": 0, "high_quality": 0.0, "reverse_kl": math.inf, "diverged": True}
    cov = mode_coverage(samples, run.data["mode_centres"], run.data["mode_std"])
    return {**rec, "modes": cov.modes, "high_quality": cov.high_quality_fraction, "reverse_kl": cov.reverse_kl}


def run_one(method: str, dataset: str, seed: int, steps: int, extra_set: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = build_config(method, dataset, seed, steps, tmp, extra_set)
        rec = {"method": method, "dataset": dataset, "seed": seed, "steps": steps, **train_and_score(cfg, seed)}
        return {**rec, "overrides": list(extra_set)} if extra_set else rec


def _cells(rs: list[dict]) -> list[str]:
    """seeds, modes, HQ %, reverse KL, CPU s of one (data, steps, method) group, mean ± s.e."""
    finite = [r["reverse_kl"] for r in rs if math.isfinite(r["reverse_kl"])]
    empty, diverged = len(rs) - len(finite), sum(bool(r.get("diverged")) for r in rs)
    rkl = _mean_se(finite) if finite else "—"
    if empty:  # reverse KL is infinite for a run without a single HQ sample: say how many, average the rest
        rkl += f" ({empty} without HQ samples{f', {diverged} diverged' if diverged else ''})"
    return [str(len(rs)), f"{_mean_se([r['modes'] for r in rs])} / {rs[0]['of']}",
            _mean_se([100 * r["high_quality"] for r in rs]), rkl, _mean_se([r["cpu_s"] for r in rs])]


def summarise(path: str) -> str:
    """Markdown table, one row per (steps, method, overrides), ring and grid side by side (mean ± s.e.);
    a row with ``--set`` overrides names them after the method."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in read_records(path):
        groups[(r["steps"], r["method"], " ".join(r.get("overrides", [])), r["dataset"])].append(r)
    datasets = [d for d in PRESETS if any(k[3] == d for k in groups)]
    head = " | ".join(f"{d} seeds | {d} modes | {d} HQ % | {d} reverse KL | {d} CPU s" for d in datasets)
    lines = [f"| steps | method | {head} |", "|---|---|" + "---|" * 5 * len(datasets)]
    order = list(METHODS)
    rows = sorted({k[:3] for k in groups},
                  key=lambda k: (k[0], k[2], order.index(k[1]) if k[1] in order else 99, k[1]))
    for steps, method, overrides in rows:
        cells = [c for d in datasets for c in (_cells(groups[(steps, method, overrides, d)])
                                                 if (steps, method, overrides, d) in groups else ["0", "", "", "", ""])]
        name = f"{method} ({overrides})" if overrides else method
        lines.append(f"| {steps} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _rank(rs: list[dict]) -> tuple[float, float, float]:
    """Higher is better: mean modes, then mean HQ fraction, then minus the mean reverse KL (infinite
    for a run without HQ samples)."""
    n = len(rs)
    return (sum(r["modes"] for r in rs) / n, sum(r["high_quality"] for r in rs) / n,
            -sum(r["reverse_kl"] for r in rs) / n)


def best(path: str) -> str:
    """Markdown table, one row per method: on each dataset, its best configuration among those in
    ``path`` (``_rank``: most modes, then most HQ, then least reverse KL, means over seeds)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in read_records(path):
        groups[(r["method"], r["dataset"], r["steps"], " ".join(r.get("overrides", [])))].append(r)
    datasets = [d for d in PRESETS if any(k[1] == d for k in groups)]
    head = " | ".join(f"{d}: best configuration | seeds | modes | HQ % | reverse KL | CPU s" for d in datasets)
    lines = [f"| method | {head} |", "|---|" + "---|" * 6 * len(datasets)]
    methods = sorted({k[0] for k in groups}, key=lambda m: (list(METHODS).index(m) if m in METHODS else 99, m))
    for method in methods:
        cells = []
        for d in datasets:
            configs = [(k[2], k[3]) for k in groups if k[:2] == (method, d)]
            if not configs:
                cells += ["", "0", "", "", "", ""]
                continue
            steps, overrides = max(configs, key=lambda c: _rank(groups[(method, d, *c)]))
            name = f"{steps} steps{', ' + overrides if overrides else ''}"
            cells += [name, *_cells(groups[(method, d, steps, overrides)])]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default="ns,minimax,pacgan2,unrolled,wgan-gp",
                    help=f"'all' or a comma list of {', '.join(METHODS)}")
    ap.add_argument("--datasets", default="ring,grid")
    ap.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "mode_collapse_2d"))
    ap.add_argument("--summarise", action="store_true", help="print the table of <out>/runs.jsonl and exit")
    ap.add_argument("--best", action="store_true",
                    help="print each method's best configuration in <out>/runs.jsonl (to <out>/best.md) and exit")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                    help="config override for every method (repeatable), e.g. optim.lr_decay=linear; recorded")
    ap.add_argument("--skip-done", action="store_true",
                    help="skip (method, data, seed, steps, overrides) already in runs.jsonl")
    args = ap.parse_args()
    path = os.path.join(args.out, "runs.jsonl")
    if args.summarise:
        write_summary(args.out, summarise(path))
        return
    if args.best:
        table = best(path)
        print(table)
        with open(os.path.join(args.out, "best.md"), "w") as fh:
            fh.write(table + "\n")
        return
    methods = list(METHODS) if args.methods == "all" else args.methods.split(",")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        ap.error(f"unknown methods {unknown}; known: {', '.join(METHODS)}")
    datasets = args.datasets.split(",")
    if unknown := [d for d in datasets if d not in PRESETS]:
        ap.error(f"unknown datasets {unknown}; known: {', '.join(PRESETS)}")
    try:  # every configuration of the sweep is built (and a bad --set refused) before anything is logged
        for dataset in datasets:
            for method in methods:
                build_config(method, dataset, 0, args.steps, ".", args.overrides)
    except GankitError as e:
        ap.error(str(e))
    log_invocation(args.out, torch_threads=torch.get_num_threads())
    done = set()
    if args.skip_done and os.path.exists(path):
        done = {(r["method"], r["dataset"], r["seed"], r["steps"], tuple(r.get("overrides", [])))
                for r in read_records(path)}
    for dataset in datasets:
        for method in methods:
            for seed in (int(s) for s in args.seeds.split(",")):
                if (method, dataset, seed, args.steps, tuple(args.overrides)) in done:
                    continue
                append_record(path, run_one(method, dataset, seed, args.steps, args.overrides))


if __name__ == "__main__":
    run_main(main)
