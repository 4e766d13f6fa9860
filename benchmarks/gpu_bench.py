"""GPU measurements for benchmarks/gpu_check.sh, written to one JSON file.

    python benchmarks/gpu_bench.py --out results.json            # on a CUDA machine
    python benchmarks/gpu_bench.py --dry --out results.json      # anywhere: checks the setup, skips CUDA

Sections (each timed after warm-up, with ``torch.cuda.synchronize()`` around the clock):

* ``overhead``: steps/s of gankit's ``Trainer.train_step`` vs a plain PyTorch loop over the same
  networks (DCGAN-28, batch 64, MNIST or random images), arms alternated per round; the ratio
  gankit/plain per round (1.0 = no overhead).
* ``inception``: FID Inception-v3 pool features, img/s at batch 64 of 299x299 inputs: float32
  NCHW, float32 channels_last, bfloat16 autocast channels_last, and ``torch.compile``.
* ``stacked_mnist``: steps/s of the ``stacked-mnist-dcgan`` preset's trainer.

``--dry`` loads every preset and config, resolves the Inception weights when present, runs each
section's code path for one step on the CPU at toy size (so the script is known to work) and
records the CUDA sections as skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
QUIET = ["train.progress=false", "train.sample_every=0", "train.checkpoint_every=0", "train.log_every=10"]


def fail(message: str) -> None:
    print(f"gpu_bench.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rate(fn: Callable[[], Any], n: int, device: torch.device, warmup: int) -> float:
    """Calls of ``fn`` per second over ``n`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    sync(device)
    start = time.perf_counter()
    for _ in range(n):
        fn()
    sync(device)
    return n / (time.perf_counter() - start)


def mnist_overrides() -> list[str]:
    """``data.path`` of the shared MNIST, or random stand-in images where it is missing."""
    if (DATA / "mnist").is_dir():
        return [f"data.path={DATA}"]
    return ["data.name=digits", "data.resolution=28"]


class PlainLoop:
    """The loop a tutorial writes over the trainer's own networks: non-saturating BCE, Adam."""

    def __init__(self, trainer: Any) -> None:
        self.G, self.D = trainer.recipe.modules["G"], trainer.recipe.modules["D"]
        o, tc = trainer.cfg.optim, trainer.cfg.train
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))
        self.x = trainer.dataset.x.to(trainer.device)
        self.b, self.z_dim, self.device = tc.batch_size, trainer.cfg.model.z_dim, trainer.device
        self.ones = torch.ones(self.b, device=self.device)
        self.zeros = torch.zeros(self.b, device=self.device)

    def step(self) -> None:
        real = self.x[torch.randint(len(self.x), (self.b,), device=self.device)]
        fake = self.G(torch.randn(self.b, self.z_dim, device=self.device))
        d_loss = (F.binary_cross_entropy_with_logits(self.D(real).logits, self.ones)
                  + F.binary_cross_entropy_with_logits(self.D(fake.detach()).logits, self.zeros))
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()
        g_loss = F.binary_cross_entropy_with_logits(
            self.D(self.G(torch.randn(self.b, self.z_dim, device=self.device))).logits, self.ones)
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()


def overhead(device: torch.device, rounds: int, steps: int, warmup: int = 3) -> dict[str, Any]:
    from gankit.presets import load_preset
    from gankit.train.trainer import Trainer

    base = ["train.batch_size=64", "train.ema_decay=0", f"train.device={device}", *QUIET, *mnist_overrides()]
    gankit = Trainer(load_preset("mnist-dcgan", base), "/nonexistent-unused")
    plain = PlainLoop(Trainer(load_preset("mnist-dcgan", base), "/nonexistent-unused"))
    arms = {"plain": plain.step, "gankit": gankit.train_step}
    rates: dict[str, list[float]] = {name: [] for name in arms}
    for r in range(rounds):
        for name in (list(arms) if r % 2 == 0 else list(reversed(arms))):
            rates[name].append(rate(arms[name], steps, device, warmup=warmup if r == 0 else 0))
    ratios = [g / p for g, p in zip(rates["gankit"], rates["plain"])]
    return {"workload": "mnist-dcgan, batch 64, EMA off", "steps_per_round": steps, "steps_per_s": rates,
            "ratio_gankit_over_plain": {"min": min(ratios), "median": statistics.median(ratios), "max": max(ratios)}}


def inception(device: torch.device, batch: int, calls: int, with_compile: bool, warmup: int = 2) -> dict[str, Any]:
    from gankit.metrics.features import fuse_conv_bn, load_inception_weights

    try:
        weights = load_inception_weights(None, allow_download=False)
    except Exception as exc:  # noqa: BLE001 - any failure to find weights is reported, not fatal
        return {"skipped": f"no Inception weights ({' '.join(str(exc).split())[:160]})"}
    net = fuse_conv_bn(weights.build()).requires_grad_(False).to(device)
    x = torch.rand(batch, 3, 299, 299, device=device) * 2 - 1  # (B, 3, 299, 299) in [-1, 1]
    out: dict[str, Any] = {"batch": batch, "calls": calls, "weights": weights.path.name}
    variants: dict[str, tuple[torch.memory_format, torch.dtype | None]] = {
        "fp32": (torch.contiguous_format, None),
        "fp32_channels_last": (torch.channels_last, None),
        "bf16_channels_last": (torch.channels_last, torch.bfloat16),
    }
    with torch.inference_mode():
        for name, (fmt, dtype) in variants.items():
            model, inp = net.to(memory_format=fmt), x.contiguous(memory_format=fmt)

            def call(model=model, inp=inp, dtype=dtype) -> None:
                if dtype is None:
                    model.pool_features(inp)
                else:
                    with torch.autocast(device.type, dtype=dtype):
                        model.pool_features(inp)

            out[f"{name}_img_per_s"] = batch * rate(call, calls, device, warmup=warmup)
    if with_compile:
        model, inp = net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
        compiled = torch.compile(model.pool_features)
        start = time.perf_counter()
        with torch.inference_mode():
            compiled(inp)
            sync(device)
            out["compile_s"] = time.perf_counter() - start
            out["compiled_channels_last_img_per_s"] = batch * rate(lambda: compiled(inp), calls, device, warmup=1)
    return out


def stacked_mnist(device: torch.device, steps: int, warmup: int = 3) -> dict[str, Any]:
    from gankit.presets import load_preset
    from gankit.train.trainer import Trainer

    if not (DATA / "mnist").is_dir():
        return {"skipped": f"Stacked MNIST needs MNIST under {DATA}"}
    cfg = load_preset("stacked-mnist-dcgan", [f"train.device={device}", *QUIET, f"data.path={DATA}"])
    trainer = Trainer(cfg, "/nonexistent-unused")
    return {"preset": "stacked-mnist-dcgan", "batch_size": trainer.cfg.train.batch_size,
            "steps_per_s": rate(trainer.train_step, steps, device, warmup=warmup)}


def machine(device: torch.device) -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                            "cuda_available": torch.cuda.is_available(), "device": str(device)}
    if device.type == "cuda":
        info.update(gpu=torch.cuda.get_device_name(device), gpus=torch.cuda.device_count(),
                    cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version())
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="JSON file for the results")
    parser.add_argument("--dry", action="store_true", help="check the setup on the CPU; skip the CUDA measurements")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args()
    if args.rounds < 1:
        fail(f"--rounds must be >= 1, got {args.rounds}")
    if not args.dry and not torch.cuda.is_available():
        fail("CUDA is not available here; run with --dry to check the setup without a GPU")
    device = torch.device("cpu" if args.dry else "cuda")
    report: dict[str, Any] = {"dry": args.dry, "machine": machine(device)}
    if args.dry:  # every code path once, at toy size, on the CPU
        report["overhead"] = overhead(device, rounds=2, steps=1, warmup=0)
        report["inception"] = inception(device, batch=1, calls=1, with_compile=False, warmup=0)
        report["stacked_mnist"] = stacked_mnist(device, steps=1, warmup=0)
        report["cuda"] = "skipped: dry run (no CUDA measurements)"
    else:
        torch.backends.cudnn.benchmark = True
        report["overhead"] = overhead(device, rounds=args.rounds, steps=50)
        report["inception"] = inception(device, batch=64, calls=10, with_compile=not args.no_compile)
        report["stacked_mnist"] = stacked_mnist(device, steps=100)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = f"{args.out}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
