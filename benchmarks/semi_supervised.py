"""Semi-supervised classification error with few labels (Salimans et al. 2016 §5, Table 1;
Li et al. 2017, Table 1): train a preset of a recipe that trains a classifier (``ssgan``,
``triplegan``) with ``--labels`` class-balanced labels, then score the classifier on the
whole test split (``gankit.semi_supervised.classifier_error``): ``test_error`` with the
averaged classifier weights where the recipe keeps an average (``recipe.classifier_ema``),
``test_error_raw`` with the weights as last trained (records without it scored those).

Budget: each run stops at ``--steps`` generator steps or when its process CPU time reaches
``--cpu-budget`` seconds, whichever comes first (the steps actually done are recorded; the
learning-rate schedule is the preset's, over ``--steps``). CPU seconds = process CPU time
of the training loop (all threads; torch threads as set).

With ``--eval-every N`` the averaged classifier is also scored on the test split every N steps
(recorded as ``curve``: [step, training CPU s, test error]); the evaluations do not touch the
training (no RNG draws, modes restored) and their time is left out of the budget and of
``cpu_s`` / ``wall_s``. The reported error is always the one at the end of the budget, never
the curve's best.

With ``--keep DIR`` each run's final state is kept as a run directory
``DIR/<preset>-labels<L>-seed<S>`` (its checkpoint: ``gankit sample`` / ``gankit eval`` /
``gankit test-error`` read it), e.g. for the generator's FID; the directory must not exist yet.

Each run appends one JSON line to ``<out>/runs.jsonl`` as soon as it finishes (so a partial
sweep keeps its runs) and prints its test error; ``--summarise`` prints the markdown table
(mean ± s.e. over seeds) of that file and writes it to ``<out>/summary.md``.

usage: python benchmarks/semi_supervised.py --presets mnist-ssgan,mnist-triplegan --labels 100 \
           --seeds 0,1,2 --steps 20000 --cpu-budget 3600 [--data-dir ../shared/data]
       python benchmarks/semi_supervised.py --presets mnist-ssgan --seeds 0 --cpu-budget 60   # a 1-minute check
       python benchmarks/semi_supervised.py --summarise
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
import tempfile
import time
from collections import defaultdict

import torch

from gankit.config import ExperimentConfig
from gankit.presets import load_preset, preset_path
from gankit.runs import LoadedRun
from gankit.semi_supervised import classifier_error
from gankit.train.trainer import Trainer, data_summary

sys.path.insert(0, os.path.dirname(__file__))
from records import Refused, append_record, log_invocation, mean_se, read_records, run_main, write_summary  # noqa: E402


def preset_digest(preset: str) -> str:
    """First 12 hex digits of the SHA-256 of the preset's TOML file: tells records of a preset
    apart after the preset changed (records without one predate the field)."""
    with open(preset_path(preset), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def scored_run(cfg: ExperimentConfig, trainer: Trainer) -> LoadedRun:
    """The trainer's state as a run ``classifier_error`` can score (averaged weights included)."""
    ema = {name: e.module for name, e in trainer.ema.items()}
    return LoadedRun(cfg, trainer.recipe, ema, trainer.step, data_summary(trainer.dataset), trainer.device)


def kept_run_dir(keep: str, preset: str, labels: int, seed: int) -> str:
    """``keep/<preset>-labels<L>-seed<S>``, refused if it exists (a kept run is never overwritten)."""
    path = os.path.join(keep, f"{preset}-labels{labels}-seed{seed}")
    if os.path.exists(path):
        raise Refused(f"{path} exists; --keep never overwrites a run")
    return path


def run_one(preset: str, labels: int, seed: int, steps: int, cpu_budget: float, data_dir: str, extra: list[str],
            eval_every: int = 0, keep: str = "") -> dict:
    overrides = [f"recipe.num_labelled={labels}", f"train.seed={seed}", f"train.steps={steps}",
                 "train.progress=false", "train.sample_every=0", "train.checkpoint_every=0", *extra]
    if data_dir:
        overrides += [f"data.path={data_dir}", "data.download=false"]
    cfg, digest = load_preset(preset, overrides), preset_digest(preset)  # the file as this run reads it
    with contextlib.ExitStack() as stack:
        tmp = None if keep else stack.enter_context(tempfile.TemporaryDirectory())
        run_dir = kept_run_dir(keep, preset, labels, seed) if keep else tmp
        trainer = Trainer(cfg, run_dir)
        test_set = scored_run(cfg, trainer).dataset("test") if eval_every else None
        curve: list[list[float]] = []
        wall0, cpu0, eval_wall, eval_cpu = time.perf_counter(), time.process_time(), 0.0, 0.0
        while trainer.step < steps and time.process_time() - cpu0 - eval_cpu < cpu_budget:
            trainer.train_step()
            if eval_every and trainer.step % eval_every == 0:
                w, t = time.perf_counter(), time.process_time()
                error = classifier_error(scored_run(cfg, trainer), dataset=test_set)
                curve.append([trainer.step, round(t - cpu0 - eval_cpu, 1), error])
                eval_wall, eval_cpu = eval_wall + time.perf_counter() - w, eval_cpu + time.process_time() - t
        wall = time.perf_counter() - wall0 - eval_wall
        cpu = time.process_time() - cpu0 - eval_cpu
        if keep:
            trainer.save_checkpoint()
    run = scored_run(cfg, trainer)
    error, raw = classifier_error(run, "test"), classifier_error(run, "test", use_ema=False)
    return {"preset": preset, "preset_sha256": digest, "recipe": cfg.recipe.name, "labels": labels, "seed": seed,
            "steps": steps, "steps_done": trainer.step, "cpu_budget_s": cpu_budget, "test_error": error,
            "test_error_raw": raw, "cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "overrides": extra,
            "torch_threads": torch.get_num_threads()} | ({"curve": curve} if eval_every else {})


def summarise(path: str) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in read_records(path):
        # records from before the averaged classifier scored the last weights: their own group
        key = (r["preset"], r.get("preset_sha256", "-"), r["labels"], r["steps"], r["cpu_budget_s"],
               " ".join(r["overrides"]), "test_error_raw" in r)
        groups[key].append(r)
    lines = ["| preset | preset file | labels | steps (mean done) | CPU budget s | overrides | seeds | test error % "
             "| last weights' error % | CPU s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for (preset, digest, labels, steps, budget, extra, _), rs in sorted(groups.items()):
        done = mean_se([r["steps_done"] for r in rs], ".0f")
        raw = [100 * r.get("test_error_raw", r["test_error"]) for r in rs]
        lines.append(f"| {preset} | {digest} | {labels} | {steps} ({done}) | {budget:g} | {extra or '-'} | {len(rs)} "
                     f"| {mean_se([100 * r['test_error'] for r in rs])} | {mean_se(raw)} "
                     f"| {mean_se([r['cpu_s'] for r in rs], '.0f')} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="mnist-ssgan,mnist-triplegan")
    ap.add_argument("--labels", type=int, default=100, help="labelled training examples (a multiple of the classes)")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--steps", type=int, default=20000, help="generator steps (the lr schedule's length)")
    ap.add_argument("--cpu-budget", type=float, default=3600.0, help="CPU seconds per run (training loop)")
    ap.add_argument("--data-dir", default="", help="directory with MNIST-format files (data.path)")
    ap.add_argument("--eval-every", type=int, default=0, help="also score the test split every N steps (0 = off)")
    ap.add_argument("--keep", default="", metavar="DIR", help="keep each run's final checkpoint under DIR")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra config override")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "semi_supervised"))
    ap.add_argument("--summarise", action="store_true", help="print the table of <out>/runs.jsonl and exit")
    args = ap.parse_args()
    if args.summarise:
        write_summary(args.out, summarise(os.path.join(args.out, "runs.jsonl")))
        return
    if args.keep:  # refuse before any training if a kept run would be overwritten
        for preset in args.presets.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                kept_run_dir(args.keep, preset, args.labels, seed)
    path = log_invocation(args.out, torch_threads=torch.get_num_threads())
    for preset in args.presets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            rec = run_one(preset, args.labels, seed, args.steps, args.cpu_budget, args.data_dir, args.set,
                          args.eval_every, args.keep)
            append_record(path, rec)


if __name__ == "__main__":
    run_main(main)
