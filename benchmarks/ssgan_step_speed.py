"""CPU time per training step of the ``mnist-ssgan`` preset, three ways of laying out the same step.

Arms run alternately (order reversed every other round) in one process with one torch
thread, so machine noise hits them alike; each keeps training its own model across rounds.
Reported: process CPU-ms per step per arm per round, and the ratio of each arm's CPU time to
``separate``'s (median, min, max over rounds; < 1 = faster).

  separate   D's phase runs D three times (labelled, unlabelled, generated batches) and the
             G phase runs D on its unlabelled batch for the feature-matching target: the
             recipe before the joint forward (``recipe.fm_target=g_phase``, joint forward off)
  joint      one D forward over the three batches (what the recipe does when D mixes no
             samples), ``recipe.fm_target=g_phase``
  joint+d_phase  the same with ``recipe.fm_target=d_phase``: G's target is the D phase's
             features of its unlabelled batch (no D forward on real data in the G phase)

usage: python benchmarks/ssgan_step_speed.py [--rounds 7] [--steps 100] [--data-dir ../shared/data] \
           [--out benchmarks/results/ssgan_step_speed]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

import torch

from gankit.presets import load_preset
from gankit.train.trainer import Trainer

sys.path.insert(0, os.path.dirname(__file__))
from overhead import alternating_step_ms, machine, write_report  # noqa: E402

ARMS = {  # name: (recipe.fm_target, joint D forward)
    "separate": ("g_phase", False),
    "joint": ("g_phase", True),
    "joint+d_phase": ("d_phase", True),
}


def build_arm(fm_target: str, joint: bool, data_dir: str, seed: int, tmp: str) -> Trainer:
    overrides = [f"recipe.fm_target={fm_target}", f"train.seed={seed}", "train.progress=false",
                 "train.sample_every=0", "train.checkpoint_every=0", f"data.path={data_dir}", "data.download=false"]
    trainer = Trainer(load_preset("mnist-ssgan", overrides), tmp)
    trainer.recipe._one_forward = joint  # off: the three separate forwards of the recipe's batch-norm path
    return trainer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=100, help="steps per arm per round")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--out", default=None, help="write OUT.json and OUT.txt")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        arms = {name: build_arm(*spec, args.data_dir, args.seed, os.path.join(tmp, name))
                for name, spec in ARMS.items()}
        ms = alternating_step_ms(arms, args.rounds, args.steps)
    ratios = {name: [t / s for t, s in zip(ms[name], ms["separate"])] for name in arms if name != "separate"}
    report = {"command": "python " + " ".join(sys.argv), "machine": machine(), "seed": args.seed,
              "steps_per_round": args.steps, "rounds": args.rounds, "cpu_ms_per_step": ms, "ratio_to_separate": ratios}
    lines = [f"command: {report['command']}", f"machine: {json.dumps(report['machine'])}",
             f"mnist-ssgan, 1 torch thread, {args.steps} steps x {args.rounds} rounds per arm, seed {args.seed}"]
    for name, values in ms.items():
        lines.append(f"  {name:14s} CPU-ms/step median {statistics.median(values):6.1f}  "
                     f"per round {[round(v, 1) for v in values]}")
    for name, r in ratios.items():
        lines.append(f"  ratio {name:14s}/separate  median {statistics.median(r):.3f}  "
                     f"min {min(r):.3f}  max {max(r):.3f}")
    print("\n".join(lines), flush=True)
    if args.out:
        write_report(args.out, report, lines)


if __name__ == "__main__":
    main()
