"""gankit's trainer vs a plain PyTorch loop: identical networks, optimizer settings, batch.

Arms run alternately (A/B/C/... per round) in one process so machine noise hits all of
them alike; each keeps training its own model across rounds. Reported: steps/s per arm
per round and the ratio arm/plain with min/median/max over rounds.

  plain            the loop a tutorial writes: fake = G(z); D step on fake.detach();
                   fresh z and G(z) for the G step; torch.optim.Adam with default
                   implementation; BCE-with-logits; no EMA, no logging
  gankit           Trainer.train_step + the stats reporter (what `fit` does per step),
                   defaults: fused Adam, D-step fake reused for the G step, requires_grad
                   toggled per phase; EMA off (the plain loop has none)
  gankit+ema       the same with the generator EMA on (decay 0.999)
  gankit-baseline  reuse_fake=false, fused=false (foreach Adam): the trainer's own cost
                   with the maths laid out exactly as the plain loop does it
  gankit+compile   (only with --with-compile) the `gankit` arm with G and D compiled in
                   place by torch.compile (Module.compile); compile time is excluded
  gankit-unguarded (only with --nonfinite) the `gankit` arm without the non-finite checks
                   (train.on_nonfinite=stop, the default, checks every loss and gradient)
  gankit+skip      (only with --nonfinite) the `gankit` arm with train.on_nonfinite=skip
                   (one host read per phase update instead of one per step)

usage: python benchmarks/overhead.py [--rounds 7] [--data-dir ../shared/data] [--out benchmarks/results/overhead]
       python benchmarks/overhead.py --nonfinite --out benchmarks/results/overhead_nonfinite
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from gankit.atomic import atomic_write
from gankit.data.base import build_dataset
from gankit.presets import load_preset
from gankit.train.nonfinite import NonFiniteGuard
from gankit.train.stats import Reporter
from gankit.train.trainer import Trainer

WORKLOADS = {
    # name: (preset, overrides, steps per round)
    "ring-mlp-b256": ("ring-gan", ["train.batch_size=256"], 200),
    "dcgan28-b64": ("mnist-dcgan", ["train.batch_size=64"], 25),
}
COMMON = ["train.progress=false", "train.sample_every=0", "train.checkpoint_every=0", "train.log_every=10"]
ARMS = {
    "gankit": ["train.ema_decay=0"],
    "gankit+ema": ["train.ema_decay=0.999"],
    "gankit-baseline": ["train.ema_decay=0", "recipe.reuse_fake=false", "optim.fused=false"],
}


class PlainLoop:
    """A plain PyTorch GAN loop over the same networks (built by the same seeded code)."""

    def __init__(self, cfg, dataset) -> None:
        ref = Trainer(cfg, "/nonexistent-unused", dataset)  # only to build identical nets
        self.G, self.D = ref.recipe.modules["G"], ref.recipe.modules["D"]
        o = cfg.optim
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))
        self.x = dataset.x
        self.b = cfg.train.batch_size
        self.z_dim = cfg.model.z_dim
        self.perm = torch.randperm(len(self.x))
        self.pos = 0

    def _batch(self) -> torch.Tensor:
        if self.pos + self.b > len(self.perm):
            self.perm, self.pos = torch.randperm(len(self.x)), 0
        idx = self.perm[self.pos : self.pos + self.b]
        self.pos += self.b
        return self.x[idx]

    def step(self) -> None:
        real = self._batch()
        ones, zeros = torch.ones(self.b), torch.zeros(self.b)
        fake = self.G(torch.randn(self.b, self.z_dim))
        d_loss = F.binary_cross_entropy_with_logits(self.D(real).logits, ones) + F.binary_cross_entropy_with_logits(
            self.D(fake.detach()).logits, zeros
        )
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()
        real = self._batch()  # the trainer also draws one batch per phase update
        g_loss = F.binary_cross_entropy_with_logits(self.D(self.G(torch.randn(self.b, self.z_dim))).logits, ones)
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()


class UncheckedGuard(NonFiniteGuard):
    """The non-finite guard with every check removed: the trainer's cost without them."""

    def on_loss(self, loss) -> None:
        pass

    def end_update(self, phase, params) -> bool:
        return True

    def end_step(self) -> None:
        return None


class GankitArm:
    def __init__(self, cfg, dataset, compile_modules: bool = False, unguarded: bool = False) -> None:
        self.trainer = Trainer(cfg, "/nonexistent-unused", dataset)
        if unguarded:
            self.trainer.guard = UncheckedGuard("stop", 1)
        if compile_modules:
            for module in self.trainer.recipe.modules.values():
                module.compile()
        self.trainer.reporter = Reporter(None)  # in-memory; flushed every log_every like fit()
        self.log_every = cfg.train.log_every

    def step(self) -> None:
        t = self.trainer
        t.train_step()
        if t.step % self.log_every == 0:
            t.reporter.flush(t.step)


def machine() -> dict:
    info = {"python": platform.python_version(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "platform": platform.platform()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        info["cpu"] = next(
            (ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name")), ""
        )
        info["nproc"] = os.cpu_count()
    except OSError:
        pass
    return info


def write_report(out: str, report: dict, lines: list[str]) -> None:
    """``out.json`` (the report) and ``out.txt`` (its lines), each written atomically."""
    with atomic_write(out + ".json", "w") as fh:
        json.dump(report, fh, indent=2)
    with atomic_write(out + ".txt", "w") as fh:
        fh.write("\n".join(lines) + "\n")


def alternating_step_ms(
    arms: dict[str, Trainer], rounds: int, steps: int, warmup: int = 20
) -> dict[str, list[float]]:
    """CPU-ms per training step of each arm in each round. Arms run alternately, the order reversed
    every other round, in this process, so machine noise hits them alike; each keeps training its
    own model. ``warmup`` untimed steps per arm first (allocator, kernels)."""
    for trainer in arms.values():
        for _ in range(warmup):
            trainer.train_step()
    ms: dict[str, list[float]] = {name: [] for name in arms}
    for r in range(rounds):
        for name in (list(arms) if r % 2 == 0 else list(reversed(arms))):
            start = time.process_time()
            for _ in range(steps):
                arms[name].train_step()
            ms[name].append(1000 * (time.process_time() - start) / steps)
    return ms


def run_workload(name: str, rounds: int, data_dir: str, seed: int, with_compile: bool = False,
                 nonfinite: bool = False) -> dict:
    preset, extra, steps = WORKLOADS[name]
    base = [*extra, *COMMON, f"train.seed={seed}", f"data.path={data_dir}"]
    dataset = build_dataset(load_preset(preset, base).data)
    arms = {"plain": PlainLoop(load_preset(preset, base), dataset)}
    for arm, overrides in ARMS.items():
        arms[arm] = GankitArm(load_preset(preset, [*base, *overrides]), dataset)
    if nonfinite:
        gankit = [*base, *ARMS["gankit"]]
        arms["gankit-unguarded"] = GankitArm(load_preset(preset, gankit), dataset, unguarded=True)
        arms["gankit+skip"] = GankitArm(load_preset(preset, [*gankit, "train.on_nonfinite=skip"]), dataset)
    if with_compile:
        arms["gankit+compile"] = GankitArm(load_preset(preset, [*base, *ARMS["gankit"]]), dataset, compile_modules=True)
    for arm in arms.values():  # warm-up (allocator, kernels)
        for _ in range(max(3, steps // 5)):
            arm.step()
    rates: dict[str, list[float]] = {a: [] for a in arms}
    cpu_rates: dict[str, list[float]] = {a: [] for a in arms}  # steps per CPU second of this process
    for r in range(rounds):
        order = list(arms) if r % 2 == 0 else list(reversed(arms))  # alternate the order too
        for a in order:
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(steps):
                arms[a].step()
            rates[a].append(steps / (time.perf_counter() - start))
            cpu_rates[a].append(steps / (time.process_time() - cpu))
    result = {"workload": name, "preset": preset, "steps_per_round": steps, "rounds": rounds, "rates": rates,
              "cpu_rates": cpu_rates}
    result["ratios"] = {}
    for a in arms:
        if a == "plain":
            continue
        ratio = [x / p for x, p in zip(rates[a], rates["plain"])]
        result["ratios"][a] = {"min": min(ratio), "median": statistics.median(ratio), "max": max(ratio), "all": ratio}
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--out", default=None, help="write OUT.json and OUT.txt")
    ap.add_argument("--with-compile", action="store_true", help="add the torch.compile arm")
    ap.add_argument("--nonfinite", action="store_true", help="add the arms without non-finite checks and with skip")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    report = {"command": "python " + " ".join(sys.argv), "machine": machine(), "seed": args.seed, "results": []}
    lines = [f"command: {report['command']}", f"machine: {json.dumps(report['machine'])}", ""]
    for name in args.workloads.split(","):
        res = run_workload(name, args.rounds, args.data_dir, args.seed, args.with_compile, args.nonfinite)
        if args.nonfinite:  # the checks' own cost: the guarded arms against the unguarded one, in CPU time
            base = res["cpu_rates"]["gankit-unguarded"]
            res["guard_ratios"] = {}
            for arm in ("gankit", "gankit+skip"):
                ratio = [x / b for x, b in zip(res["cpu_rates"][arm], base)]
                res["guard_ratios"][arm] = {"min": min(ratio), "median": statistics.median(ratio), "max": max(ratio),
                                            "all": ratio}
        report["results"].append(res)
        lines.append(f"{name} ({res['steps_per_round']} steps x {res['rounds']} rounds per arm)")
        for arm, rates in res["rates"].items():
            lines.append(f"  {arm:16s} steps/s median {statistics.median(rates):8.1f}  "
                         f"per round {[round(x, 1) for x in rates]}")
        for arm, r in res["ratios"].items():
            lines.append(f"  ratio {arm:16s}/plain  min {r['min']:.3f}  median {r['median']:.3f}  max {r['max']:.3f}")
        for arm, r in res.get("guard_ratios", {}).items():
            lines.append(f"  CPU-time ratio {arm:16s}/gankit-unguarded  min {r['min']:.3f}  median {r['median']:.3f}  "
                         f"max {r['max']:.3f}")
        lines.append("")
        print("\n".join(lines[-(len(res['rates']) + len(res['ratios']) + len(res.get('guard_ratios', {})) + 2):]),
              flush=True)
    if args.out:
        write_report(args.out, report, lines)


if __name__ == "__main__":
    main()
