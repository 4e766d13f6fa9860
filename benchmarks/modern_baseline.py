"""The modern baseline and small data (R3GAN, DiffAugment, ADA): the four tables of docs/models/modern.md.

``--table ablation``  R3GAN's loss ablation (Huang et al. 2024, Table 1) on Stacked MNIST: the same network and
                      budget (preset ``stacked-mnist-r3gan``) trained with GAN + R1, RpGAN + R1, GAN + R1 + R2 and
                      RpGAN + R1 + R2 ("GAN" = the non-saturating loss); modes and KL of 26,000 EMA samples, scored
                      as ``stacked_mnist.py`` does (gankit's MNIST classifier on each channel).
``--table best``      the preset ``stacked-mnist-r3gan`` itself under ``--cpu-minutes`` (the issue: KL < 0.029 with
                      1,000 modes, mean of 3 seeds, 60 CPU-minutes a run); ``--set`` tries other settings.
``--table small-data`` MNIST and Fashion-MNIST with ``--limits`` (500, 2,000) training images: the same network and
                      steps (preset ``mnist-500-diffaugment``) with ``recipe.augment`` none, diffaugment and ada;
                      FID in the domain classifier's features (``--inception`` adds Inception FID), the test
                      split as reference, ``--n`` samples.
``--table fid``       presets ``mnist-modern`` / ``fashion-modern``: FID against Lucic et al. 2018 (Inception FID on
                      10,000 samples with ``--inception``), CPU time recorded.

Every run trains for at most ``--cpu-minutes`` of process CPU time and at most ``--steps`` generator steps (the
preset's ``train.steps`` by default); a record is one JSON line in ``<out>/<table>/runs.jsonl`` with the overrides,
steps, CPU seconds and scores; ``--summarise`` writes ``<out>/<table>/summary.md`` (mean ± s.e. over seeds).

usage: python benchmarks/modern_baseline.py --table ablation --seeds 0,1,2 [--cpu-minutes 60] [--steps N]
       python benchmarks/modern_baseline.py --table small-data --datasets mnist,fashion-mnist --limits 500,2000 \
           --augments none,diffaugment,ada --seeds 0,1,2 [--steps 3000] [--inception]
       python benchmarks/modern_baseline.py --table fid --datasets mnist,fashion-mnist --seeds 0,1,2 --inception
       python benchmarks/modern_baseline.py --table ablation --summarise
smoke (seconds): --seeds 0 --steps 2 --n 200 --set model.g_width=8 --set model.d_width=8 --out /tmp/modern
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict

import torch

from gankit.config import apply_overrides, to_dict
from gankit.experiment import config_from_dict
from gankit.metrics.classifier import load_classifier
from gankit.presets import preset_tree
from gankit.runs import load_run
from gankit.runs.files import CONFIG_NAME
from gankit.runs.samples import evaluate
from gankit.train.trainer import Trainer, write_json_atomic

sys.path.insert(0, os.path.dirname(__file__))
from records import append_record, log_invocation, mean_se, read_records, run_main, write_summary  # noqa: E402
from stacked_mnist import score as stacked_score  # noqa: E402

ABLATION: dict[str, list[str]] = {  # R3GAN Table 1's rows on one network: loss and penalties
    "gan+r1": ["recipe.loss=ns", "recipe.r2_gamma=0"],
    "rpgan+r1": ["recipe.loss=rpgan", "recipe.r2_gamma=0"],
    "gan+r1+r2": ["recipe.loss=ns"],
    "rpgan+r1+r2": ["recipe.loss=rpgan"],
}
TABLES = ("ablation", "best", "small-data", "fid")
STACKED_PRESET, SMALL_PRESET = "stacked-mnist-r3gan", "mnist-500-diffaugment"
FID_PRESETS = {"mnist": "mnist-modern", "fashion-mnist": "fashion-modern"}
STACKED_SAMPLES = 26_000


def variants(args: argparse.Namespace) -> list[tuple[str, str, list[str]]]:
    """``(name, preset, overrides)`` of every run of ``args.table`` for one seed."""
    if args.table == "ablation":
        return [(name, STACKED_PRESET, extra) for name, extra in ABLATION.items()]
    if args.table == "best":
        return [("r3gan", STACKED_PRESET, [])]
    if args.table == "fid":
        return [(f"{d}-modern", FID_PRESETS[d], []) for d in args.datasets.split(",")]
    return [(f"{d}-{n}-{a}", SMALL_PRESET, [f"data.name={d}", f"data.limit={n}", f"recipe.augment={a}"])
            for d in args.datasets.split(",") for n in args.limits.split(",") for a in args.augments.split(",")]


def run_config(preset: str, extra: list[str], seed: int, args: argparse.Namespace, run_dir: str):
    tree = preset_tree(preset)
    steps = [f"train.steps={args.steps}"] if args.steps else []
    return config_from_dict(apply_overrides(tree, [
        *extra, *args.overrides, *steps, f"train.seed={seed}", f"data.path={args.data_dir}",
        f"train.out_dir={os.path.dirname(run_dir)}", f"train.run_name={os.path.basename(run_dir)}",
        "train.progress=false", "train.sample_every=0", "train.checkpoint_every=0"]))


def train_budgeted(trainer: Trainer, cpu_minutes: float) -> tuple[float, float]:
    """Train until ``train.steps`` or the CPU budget; (CPU s, wall s)."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    while trainer.step < trainer.cfg.train.steps and time.process_time() - cpu0 < 60.0 * cpu_minutes:
        trainer.train_step()
    return time.process_time() - cpu0, time.perf_counter() - wall0


def stacked_scores(trainer: Trainer, seed: int, n: int) -> dict:
    gen = torch.Generator().manual_seed(10_000 + seed)  # the latents of stacked_mnist.py's scoring
    x = torch.cat([trainer.generate(trainer.recipe.latent(min(1000, n - i), gen)) for i in range(0, n, 1000)])
    s = stacked_score(x, load_classifier("mnist"))
    return {"modes": s["modes"], "kl": s["kl"], "channel_kl": s["channel_kl"]}


def image_scores(run_dir: str, dataset: str, seed: int, args: argparse.Namespace) -> dict:
    run = load_run(run_dir)
    common = dict(real=dataset, split="test", n=args.n, seed=seed, data_dir=args.data_dir, classifier=dataset)
    rec = {"fid_clf": evaluate(fake=run, metrics=["fid"], features="classifier", **common)["fid"]}
    if args.inception:
        rec["fid_inception"] = evaluate(fake=run, metrics=["fid"], features="inception", **common)["fid"]
    return rec


def run_one(name: str, preset: str, extra: list[str], seed: int, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = os.path.join(args.keep or tmp, f"{args.table}-{name}-seed{seed}")
        cfg = run_config(preset, extra, seed, args, run_dir)
        trainer = Trainer(cfg, run_dir)
        os.makedirs(run_dir, exist_ok=True)
        cpu, wall = train_budgeted(trainer, args.cpu_minutes)
        rec = {"table": args.table, "variant": name, "seed": seed, "steps": trainer.step, "cpu_s": round(cpu, 1),
               "wall_s": round(wall, 1), "cpu_minutes_budget": args.cpu_minutes, "preset": preset,
               "overrides": [*extra, *args.overrides], "torch_threads": torch.get_num_threads()}
        if args.table in ("ablation", "best"):
            return rec | stacked_scores(trainer, seed, args.n or STACKED_SAMPLES)
        write_json_atomic(os.path.join(run_dir, CONFIG_NAME), to_dict(cfg))  # a run directory load_run reads
        trainer.save_checkpoint()
        return rec | {"n": args.n} | image_scores(run_dir, cfg.data.name, seed, args)


def summarise(path: str) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    records = read_records(path)
    for r in records:
        groups[(r["variant"], " ".join(r["overrides"]), r["cpu_minutes_budget"])].append(r)
    columns = [c for c in ("modes", "kl", "fid_clf", "fid_inception") if any(c in r for r in records)]
    lines = ["| variant | overrides | CPU-min budget | runs (seeds) | steps | " + " | ".join(columns) + " | CPU s |",
             "|---" * (6 + len(columns)) + "|"]
    for (variant, extra, budget), rs in sorted(groups.items()):
        seeds = ",".join(str(s) for s in sorted({r["seed"] for r in rs}))
        cells = [mean_se([r[c] for r in rs if c in r], ".4g") if any(c in r for r in rs) else "–" for c in columns]
        lines.append(f"| {variant} | {extra or '-'} | {budget:g} | {len(rs)} ({seeds}) | "
                     f"{mean_se([r['steps'] for r in rs], '.0f')} | " + " | ".join(cells)
                     + f" | {mean_se([r['cpu_s'] for r in rs], '.0f')} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", choices=TABLES, required=True)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--cpu-minutes", type=float, default=60.0)
    ap.add_argument("--steps", type=int, default=0, help="generator steps (0: the preset's train.steps)")
    ap.add_argument("--datasets", default="mnist,fashion-mnist")
    ap.add_argument("--limits", default="500,2000", help="small-data: training images")
    ap.add_argument("--augments", default="none,diffaugment,ada", help="small-data: recipe.augment values")
    ap.add_argument("--n", type=int, default=0, help="samples scored (0: 26,000 Stacked MNIST, 10,000 FID)")
    ap.add_argument("--inception", action="store_true", help="also Inception FID (slow on a CPU)")
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "modern"))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                    help="config override for every run (repeatable)")
    ap.add_argument("--keep", metavar="DIR", help="keep each run in DIR/<table>-<variant>-seed<S>")
    ap.add_argument("--variants", default="", help="only these variants of the table (comma-separated names)")
    ap.add_argument("--summarise", action="store_true")
    args = ap.parse_args()
    out = os.path.join(args.out, args.table)
    path = os.path.join(out, "runs.jsonl")
    if args.summarise:
        write_summary(out, summarise(path))
        return
    if args.steps < 0 or args.n < 0 or args.cpu_minutes <= 0:
        ap.error("--steps and --n must be >= 0 and --cpu-minutes > 0")
    if args.table in ("small-data", "fid"):
        args.n = args.n or 10_000
        if unknown := sorted(set(args.datasets.split(",")) - set(FID_PRESETS)):
            ap.error(f"unknown datasets {unknown}; known: {', '.join(FID_PRESETS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = variants(args)
    if args.variants:
        wanted = args.variants.split(",")
        if unknown := sorted(set(wanted) - {name for name, _, _ in runs}):
            ap.error(f"unknown variants {unknown}; {args.table} has {', '.join(name for name, _, _ in runs)}")
        runs = [r for r in runs if r[0] in wanted]
    for name, preset, extra in runs:  # a bad --set (or limit, augment) is refused before anything is logged
        run_config(preset, extra, 0, args, os.path.join(out, "run"))
    log_invocation(out)
    for seed in seeds:
        for name, preset, extra in runs:
            append_record(path, run_one(name, preset, extra, seed, args))


if __name__ == "__main__":
    run_main(main)
