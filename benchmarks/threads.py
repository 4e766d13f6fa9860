"""Step rates of the thread policies (train.threads = 1, all allowed cores, auto) on three presets.

For each preset one Trainer per policy is built in this process (same seed, same data), then the
policies are timed in alternation: ``--rounds`` rounds, each running ``--steps`` training steps of
every policy in turn (after ``--warmup`` untimed steps per trainer), so a change in the machine's
load hits all policies alike. Every timed block is one JSON line in
``<out>/runs.jsonl`` (preset, policy, threads, steps/s, process CPU s, os.getloadavg before and
after); ``<out>/summary.md`` has the median steps/s per policy and auto's ratio to the better of
1 and all (target: >= 0.9), and the median process CPU ms/step (less sensitive to other processes).
``--table`` only rebuilds the summary from the records.

``--background-load N`` starts N busy-looping processes for the whole measurement (a reproducible
"shared machine"; 0 = whatever else runs). gankit is imported before torch, as in the ``gankit``
command, so OpenMP's spin-wait is bounded (gankit.openmp_wait); each record names the
GOMP_SPINCOUNT / OMP_WAIT_POLICY in effect.

usage: python benchmarks/threads.py [--presets ring-sharp,mnist-dcgan,stacked-mnist-dcgan] \
           [--steps 200,50,50] [--rounds 3] [--warmup 10] [--background-load 0] \
           [--data-dir ../shared/data] [--out benchmarks/results/threads]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

from gankit import openmp_wait  # noqa: I001  first, as in the gankit command: bounds the spin before torch loads

# isort: split

import torch

from gankit.data.base import build_dataset
from gankit.presets import load_preset
from gankit.train.threads import AUTO_WORK_THRESHOLD, allowed_cores, count_parameters
from gankit.train.trainer import Trainer

sys.path.insert(0, os.path.dirname(__file__))
from records import Refused, append_record, log_invocation, read_records, run_main, write_summary  # noqa: E402

POLICIES = ("1", "all", "auto")


def build_trainers(preset: str, data_dir: str, tmp: str, extra: list[str]) -> dict[str, Trainer]:
    """One trainer per policy over one shared dataset (``all`` = the allowed cores as an integer)."""
    overrides = [f"data.path={data_dir}", "train.progress=false", f"train.out_dir={tmp}", *extra]
    dataset = build_dataset(load_preset(preset, overrides).data)
    trainers = {}
    for policy in POLICIES:
        value = str(allowed_cores()) if policy == "all" else policy
        cfg = load_preset(preset, [*overrides, f"train.threads={value}"])
        trainers[policy] = Trainer(cfg, os.path.join(tmp, policy), dataset)
    return trainers


def time_block(trainer: Trainer, steps: int) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of ``steps`` training steps at the trainer's own count."""
    torch.set_num_threads(trainer.threads)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        trainer.train_step()
    return time.perf_counter() - wall0, time.process_time() - cpu0


def bench_preset(preset: str, steps: int, args: argparse.Namespace, runs: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        trainers = build_trainers(preset, args.data_dir, tmp, args.overrides)
        any_trainer = trainers["auto"]
        n_params = count_parameters(any_trainer.recipe.modules.values())
        elements = any_trainer.cfg.train.batch_size * math.prod(any_trainer.dataset.sample_shape)
        for policy, trainer in trainers.items():
            torch.set_num_threads(trainer.threads)
            for _ in range(args.warmup):
                trainer.train_step()
        for rnd in range(args.rounds):
            order = POLICIES if rnd % 2 == 0 else POLICIES[::-1]  # alternate who goes first
            for policy in order:
                load0 = os.getloadavg()
                wall, cpu = time_block(trainers[policy], steps)
                rec = {"preset": preset, "policy": policy, "threads": trainers[policy].threads, "round": rnd,
                       "steps": steps, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                       "steps_per_s": round(steps / wall, 3), "params": n_params, "batch_elements": elements,
                       "work": n_params * elements, "auto_threshold": AUTO_WORK_THRESHOLD,
                       "allowed_cores": allowed_cores(), "background_load": args.background_load,
                       "gomp_spincount": os.environ.get("GOMP_SPINCOUNT"),
                       "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
                       "spin_bounded": openmp_wait.SPIN_BOUNDED, "loadavg_before": [round(x, 2) for x in load0],
                       "loadavg_after": [round(x, 2) for x in os.getloadavg()]}
                append_record(runs, rec)


@contextlib.contextmanager
def background_load(n: int):
    """``n`` busy-looping Python processes for the duration of the block."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for p in burners:
            p.kill()
            p.wait()


def summary_table(path: str) -> str:
    """``summary`` of the records file ``path`` (the docs' generated tables)."""
    return summary(read_records(path))


def summary(records: list[dict]) -> str:
    """Per background load and preset: medians over rounds of steps/s (wall) and CPU ms/step per
    policy, auto / best of 1 and all."""
    lines = ["| background load | preset | params | batch elements | auto threads | steps/s 1 | steps/s all "
             "| steps/s auto | auto / best | CPU ms/step 1 / all / auto | load (1 min) |", "|---" * 11 + "|"]
    for extra, preset in dict.fromkeys((r.get("background_load", 0), r["preset"]) for r in records):
        rs = [r for r in records if r["preset"] == preset and r.get("background_load", 0) == extra]
        rate = {p: statistics.median(r["steps_per_s"] for r in rs if r["policy"] == p) for p in POLICIES}
        cpu = {p: statistics.median(1000 * r["cpu_s"] / r["steps"] for r in rs if r["policy"] == p) for p in POLICIES}
        auto = next(r["threads"] for r in rs if r["policy"] == "auto")
        load = statistics.mean(r["loadavg_before"][0] for r in rs)
        lines.append(f"| {extra} | {preset} | {rs[0]['params']:,} | {rs[0]['batch_elements']:,} | {auto} "
                     f"| {rate['1']:.1f} | {rate['all']:.1f} | {rate['auto']:.1f} "
                     f"| {rate['auto'] / max(rate['1'], rate['all']):.2f} "
                     f"| {cpu['1']:.0f} / {cpu['all']:.0f} / {cpu['auto']:.0f} | {load:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="ring-sharp,mnist-dcgan,stacked-mnist-dcgan")
    ap.add_argument("--steps", default="200", help="timed steps per block: one value, or one per preset (200,50,50)")
    ap.add_argument("--rounds", type=int, default=3, help="alternations of the three policies")
    ap.add_argument("--warmup", type=int, default=10, help="untimed steps per trainer first")
    ap.add_argument("--background-load", type=int, default=0, help="busy-looping processes during the run")
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "threads"))
    ap.add_argument("--table", action="store_true", help="only rebuild <out>/summary.md from <out>/runs.jsonl")
    ap.add_argument("overrides", nargs="*", help="extra section.key=value for every preset")
    args = ap.parse_args()
    if args.table:
        write_summary(args.out, summary(read_records(os.path.join(args.out, "runs.jsonl"))))
        return
    presets = args.presets.split(",")
    steps = [int(s) for s in args.steps.split(",") if s.strip().isdigit()]
    if len(steps) != len(args.steps.split(",")) or len(steps) not in (1, len(presets)) or min(steps) < 1:
        raise Refused(f"--steps {args.steps}: give one count >= 1 or one per preset ({len(presets)})")
    for preset in presets:  # unknown presets and keys are refused before anything is logged
        load_preset(preset, [f"data.path={args.data_dir}", *args.overrides])
    if args.background_load < 0:
        raise Refused(f"--background-load {args.background_load}: give a count >= 0")
    runs = log_invocation(args.out, allowed_cores=allowed_cores(), omp_num_threads=os.environ.get("OMP_NUM_THREADS"),
                          background_load=args.background_load, gomp_spincount=os.environ.get("GOMP_SPINCOUNT"))
    with background_load(args.background_load):
        for preset, n in zip(presets, steps * len(presets) if len(steps) == 1 else steps):
            bench_preset(preset, n, args, runs)
    write_summary(args.out, summary(read_records(runs)))


if __name__ == "__main__":
    run_main(main)
