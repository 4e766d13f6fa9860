"""Train presets end to end and record time, samples and (for the 2-D toys) mode coverage.

For each preset: `gankit.train` with the preset's own settings (optionally fewer steps),
wall and process CPU seconds, and the run's final sample plot copied to
benchmarks/results/presets/<preset>/. For the ring and grid, 2,500 samples from the EMA
generator are scored with the PacGAN/VEEGAN mode-coverage protocol.

usage: python benchmarks/preset_runs.py --presets ring-gan,grid-gan,mnist-dcgan,fashion-dcgan \
           [--seed 0] [--data-dir ../shared/data] [--out benchmarks/results/presets]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import torch

from gankit.metrics import mode_coverage
from gankit.presets import load_preset
from gankit.runs import load_run, train

sys.path.insert(0, os.path.dirname(__file__))
from overhead import machine  # noqa: E402
from records import run_main  # noqa: E402

COPY = ("samples_final.png", "density.png", "loss_curves.png", "README.md")


def run_preset(name: str, seed: int, data_dir: str, out: str, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        overrides = [f"train.seed={seed}", f"data.path={data_dir}", f"train.out_dir={tmp}",
                     "train.run_name=run", "train.progress=false", *extra]
        cfg = load_preset(name, overrides)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = train(cfg)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        record = {"preset": name, "overrides": overrides[:1] + extra, "steps": result.steps,
                  "wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}
        run = load_run(result.run_dir)
        if run.data.get("mode_centres") is not None:
            samples = run.sample(2500, seed=seed + 1).numpy()
            cov = mode_coverage(samples, run.data["mode_centres"], run.data["mode_std"])
            record["mode_coverage"] = {"modes": cov.modes, "of": len(run.data["mode_centres"]),
                                       "high_quality": cov.high_quality_fraction, "reverse_kl": cov.reverse_kl}
        dest = os.path.join(out, name)
        os.makedirs(dest, exist_ok=True)
        for f in COPY:
            src = os.path.join(result.run_dir, f)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(dest, f))
    return record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="ring-gan,grid-gan,mnist-dcgan,fashion-dcgan")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "presets"))
    ap.add_argument("overrides", nargs="*", help="extra section.key=value for every preset")
    args = ap.parse_args()
    report = {"command": "python " + " ".join(sys.argv), "machine": machine(), "torch_threads": torch.get_num_threads(),
              "runs": []}
    for name in args.presets.split(","):
        rec = run_preset(name, args.seed, args.data_dir, args.out, args.overrides)
        print(json.dumps(rec), flush=True)
        report["runs"].append(rec)
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "results.json"), "w") as fh:
            json.dump(report, fh, indent=2)


if __name__ == "__main__":
    run_main(main)
