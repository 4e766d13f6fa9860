"""Does a preset hit the 2-D mode-coverage targets on every seed? (PacGAN protocol, Lin et al. 2018)

Targets (per run, every seed, not the mean): ring — 8 modes, >= 98 % high-quality (HQ) samples,
reverse KL <= 0.02 in <= 60 CPU-seconds of training; grid — 25 modes, >= 97 % HQ, reverse KL <= 0.02
in <= 120 CPU-seconds. Scored as in ``mode_collapse_2d.py``: 2,500 samples from the EMA generator
drawn with seed 10_000 + seed, HQ = within 3 sigma of the nearest mode, modes = modes with >= 1 HQ
sample, reverse KL = KL(HQ mode histogram || uniform) (``gankit.metrics.mode_coverage``); CPU
seconds = ``time.process_time()`` around ``gankit.runs.train`` (run with OMP_NUM_THREADS=1).

Each run appends one JSON line (preset, overrides, scores, CPU/wall seconds, machine) to
``<out>/runs.jsonl`` as soon as it finishes; the summary table (mean ± s.e., min/max over seeds,
target met on every seed?) of all lines in that file is printed at the end and by ``--summarise``.

usage: OMP_NUM_THREADS=1 python benchmarks/target_2d.py --preset ring-sharp [--seeds 0-9] \
           [--set optim.lr_g=2e-3 --set train.steps=4000 ...] [--out benchmarks/results/target_2d]
       python benchmarks/target_2d.py --summarise [--out benchmarks/results/target_2d]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict

from gankit.config import apply_overrides
from gankit.experiment import config_from_dict
from gankit.presets import preset_tree

sys.path.insert(0, os.path.dirname(__file__))
from mode_collapse_2d import train_and_score  # noqa: E402
from overhead import machine
from records import mean_se as _mean_se  # noqa: E402
from records import run_main  # noqa: E402

# data -> (modes, min HQ fraction, max reverse KL, max CPU seconds)
TARGETS = {"ring": (8, 0.98, 0.02, 60.0), "grid": (25, 0.97, 0.02, 120.0)}
BOOKKEEPING = ["train.run_name=run", "train.progress=false", "train.sample_every=0", "train.checkpoint_every=0",
               "train.log_every=100"]


def run_one(preset: str, overrides: list[str], seed: int, info: dict) -> dict:
    """Train ``preset`` (+ overrides) with ``train.seed=seed`` and score it like mode_collapse_2d.py."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = apply_overrides(preset_tree(preset), [*overrides, f"train.seed={seed}", f"train.out_dir={tmp}",
                                                     *BOOKKEEPING])
        cfg = config_from_dict(tree)
        return {"preset": preset, "overrides": overrides, "dataset": cfg.data.name, "seed": seed,
                "steps": cfg.train.steps, **train_and_score(cfg, seed), "machine": info}


def _verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def summarise(path: str) -> str:
    """Markdown table per (preset, overrides, steps): mean ± s.e. and the worst seed of every score."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    with open(path) as fh:
        for r in map(json.loads, filter(str.strip, fh)):
            groups[(r["dataset"], r["preset"], " ".join(r["overrides"]), r["steps"])].append(r)
    header = ("| data | preset (overrides) | steps | seeds | modes (min) | HQ % (min) | reverse KL (max) | CPU s (max) "
              "| target met on every seed |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|"]
    for (dataset, preset, overrides, steps), rs in sorted(groups.items()):
        modes, hq = [r["modes"] for r in rs], [100 * r["high_quality"] for r in rs]
        rkl, cpu = [r["reverse_kl"] for r in rs], [r["cpu_s"] for r in rs]
        verdict = "—"
        if dataset in TARGETS:
            m, h, k, c = TARGETS[dataset]
            verdict = (f"modes {_verdict(min(modes) >= m)}, HQ {_verdict(min(hq) >= 100 * h)}, "
                       f"rKL {_verdict(max(rkl) <= k)}, CPU {_verdict(max(cpu) <= c)}")
        name = f"{preset} ({overrides})" if overrides else preset
        lines.append(f"| {dataset} | {name} | {steps} | {len(rs)} | {_mean_se(modes)} ({min(modes)}) / {rs[0]['of']} "
                     f"| {_mean_se(hq)} ({min(hq):.1f}) | {_mean_se(rkl)} ({max(rkl):.3g}) "
                     f"| {_mean_se(cpu)} ({max(cpu):.1f}) | {verdict} |")
    return "\n".join(lines)


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="ring-sharp", help="preset name or path to a preset TOML")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="config override")
    ap.add_argument("--seeds", default="0-9", help="'0-9' or a comma list")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "target_2d"))
    ap.add_argument("--summarise", action="store_true", help="print the table of <out>/runs.jsonl and exit")
    args = ap.parse_args()
    path = os.path.join(args.out, "runs.jsonl")
    if not args.summarise:
        os.makedirs(args.out, exist_ok=True)
        info = machine()
        for seed in _seeds(args.seeds):
            rec = run_one(args.preset, args.set, seed, info)
            print(json.dumps({k: v for k, v in rec.items() if k != "machine"}), flush=True)
            with open(path, "a") as fh:
                fh.write(json.dumps(rec) + "\n")
    print(summarise(path))


if __name__ == "__main__":
    run_main(main)
