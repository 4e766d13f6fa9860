"""FID Inception feature throughput: gankit's InceptionExtractor vs a naive pytorch-fid loop.

    python benchmarks/inception_speed.py                     # writes benchmarks/results/inception_speed.{txt,json}
    python benchmarks/inception_speed.py --n-images 50 --rounds 2 --no-ablation --no-compile

Both sides get the same images (the first N MNIST test digits, uint8 28x28, from
../shared/data/mnist; seeded random digits-like images if that is missing) and the same
weights, and both include their preprocessing (pytorch-fid: /255, bilinear resize to 299,
2x-1). A and B alternate inside each round so machine noise hits both alike; the ratio is
reported per round with min/median/max.

A (baseline, "what pytorch-fid does"): the unfused network, NCHW, batch 50, default
threads, ``torch.no_grad()``, model in eval mode.
B (gankit): ``InceptionExtractor()`` defaults: BN folded into the convs, channels_last,
``torch.inference_mode()``, batch 64.

Ablations (one pass each, alternated with A): each speed-up on its own, a larger batch,
``torch.jit.freeze`` + ``optimize_for_inference``, and ``torch.compile`` (the extractor's
``compile=True``; its compile time is reported separately).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gankit.metrics.features import InceptionExtractor, fuse_conv_bn, load_inception_weights

REPO = Path(__file__).resolve().parents[1]
MNIST_TEST = REPO.parent / "shared" / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"
BASELINE_BATCH = 50


def load_images(n: int, seed: int) -> tuple[np.ndarray, str]:
    if MNIST_TEST.is_file():
        from gankit.data.idx import read_idx

        return np.ascontiguousarray(read_idx(MNIST_TEST)[:n]), f"MNIST test images 0..{n - 1} ({MNIST_TEST})"
    rng = np.random.default_rng(seed)
    img = (rng.random((n, 28, 28)) > 0.8).astype(np.uint8) * 255
    return img, f"random binary 28x28 digits-like images (seed {seed})"


def naive_pytorch_fid(model: torch.nn.Module, images: np.ndarray) -> np.ndarray:
    """pytorch-fid's loop: ToTensor (/255), gray->RGB, bilinear resize, 2x-1, no_grad, NCHW."""
    out = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(images), BASELINE_BATCH):
            batch = torch.from_numpy(images[start : start + BASELINE_BATCH]).float() / 255  # (B, 28, 28)
            batch = batch[:, None].repeat(1, 3, 1, 1)  # (B, 3, 28, 28)
            batch = F.interpolate(batch, size=(299, 299), mode="bilinear", align_corners=False)
            batch = 2 * batch - 1
            out.append(model.pool_features(batch).cpu().numpy().astype(np.float64))
    return np.concatenate(out)


def timed(fn, *args):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - t0


def machine_info() -> dict[str, str | int]:
    try:
        lscpu = "\n".join(subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()[:10])
    except OSError:
        lscpu = platform.processor()
    try:
        load = " ".join(f"{x:.2f}" for x in __import__("os").getloadavg())
    except OSError:
        load = "?"
    return {
        "lscpu_head": lscpu,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "mkldnn_enabled": str(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
        "loadavg_at_start": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-images", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", default=None, help="weights path or keyword (default: resolve)")
    parser.add_argument("--ablation-images", type=int, default=60)
    parser.add_argument("--no-ablation", action="store_true")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "inception_speed"))
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    lines: list[str] = []

    def say(msg: str = "") -> None:
        print(msg, flush=True)
        lines.append(msg)

    info = machine_info()
    command = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    say(f"command: {command}")
    say(f"seed: {args.seed}")
    for key, value in info.items():
        say(f"{key}: {value}")
    images, what = load_images(args.n_images, args.seed)
    say(f"images: {what}, uint8 {images.shape}")

    weights = load_inception_weights(args.weights)
    say(f"weights: {weights.path} ({weights.format})")
    plain = weights.build()  # A: unfused, NCHW
    extractor = InceptionExtractor(weights)  # B: defaults
    say(f"B settings: batch {extractor.batch_size}, channels_last {extractor.channels_last}, fused BN, inference_mode")
    say("")

    # warm-up (first calls allocate and pick oneDNN kernels)
    naive_pytorch_fid(plain, images[:2])
    extractor.features(images[:2])

    rounds = []
    feats_a = feats_b = None
    for r in range(args.rounds):
        feats_a, ta = timed(naive_pytorch_fid, plain, images)
        feats_b, tb = timed(extractor.features, images)
        ips_a, ips_b = len(images) / ta, len(images) / tb
        rounds.append({"round": r, "a_images_per_s": ips_a, "b_images_per_s": ips_b, "ratio": ips_b / ips_a})
        say(f"round {r}: A naive {ips_a:6.2f} img/s   B gankit {ips_b:6.2f} img/s   ratio {ips_b / ips_a:.2f}x")
    ratios = [x["ratio"] for x in rounds]
    assert feats_a is not None and feats_b is not None
    max_diff = float(np.abs(feats_a - feats_b).max())
    say(
        f"ratio B/A over {len(ratios)} rounds: min {min(ratios):.2f}x  median {statistics.median(ratios):.2f}x  "
        f"max {max(ratios):.2f}x"
    )
    say(f"features max |A - B| = {max_diff:.3g} (max |A| = {np.abs(feats_a).max():.3g}); identical: {max_diff == 0}")
    result: dict = {
        "command": command,
        "seed": args.seed,
        "machine": info,
        "images": what,
        "n_images": int(len(images)),
        "weights": str(weights.path),
        "a": "naive pytorch-fid loop: unfused, NCHW, batch 50, torch.no_grad, default threads",
        "b": f"InceptionExtractor defaults: fused BN, channels_last, inference_mode, batch {extractor.batch_size}",
        "rounds": rounds,
        "ratio_min": min(ratios),
        "ratio_median": statistics.median(ratios),
        "ratio_max": max(ratios),
        "features_max_abs_diff": max_diff,
    }

    if not args.no_ablation:
        say("")
        sub = images[: args.ablation_images]
        say(f"ablation on {len(sub)} images, each variant timed right after a fresh A run (ratio vs that A):")
        fused = fuse_conv_bn(plain)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's note about our shape check
            traced = torch.jit.trace(_Features(plain).eval(), torch.zeros(2, 3, 299, 299))
            frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
        variants = {
            "inference_mode only": InceptionExtractor(plain, fuse=False, channels_last=False, batch_size=50),
            "fused BN only": InceptionExtractor(plain, fuse=True, channels_last=False, batch_size=50),
            "channels_last only": InceptionExtractor(plain, fuse=False, channels_last=True, batch_size=50),
            "fused + channels_last, batch 50": InceptionExtractor(plain, batch_size=50),
            "fused + channels_last, batch 100": InceptionExtractor(plain, batch_size=100),
            "jit.freeze + optimize_for_inference (NCHW, batch 50)": _ScriptedRunner(frozen),
        }
        ablation = []
        for name, runner in variants.items():
            fn = runner.features
            fn(sub[:2])  # warm-up
            feats_ref, ta = timed(naive_pytorch_fid, plain, sub)
            feats_v, tv = timed(fn, sub)
            ratio = ta / tv
            diff = float(np.abs(feats_ref - feats_v).max())
            ablation.append({"variant": name, "images_per_s": len(sub) / tv, "a_images_per_s": len(sub) / ta,
                             "ratio": ratio, "max_abs_diff": diff})  # fmt: skip
            say(f"  {name:55s} {len(sub) / tv:6.2f} img/s  (A {len(sub) / ta:6.2f})  "
                f"{ratio:.2f}x  max|diff| {diff:.2g}")
        del fused
        if not args.no_compile:
            compiled = InceptionExtractor(plain, batch_size=50, compile=True)
            _, t_compile = timed(compiled.features, sub[:50])
            say(f"  torch.compile (inductor, freezing) compile + first batch of 50: {t_compile:.1f} s")
            feats_ref, ta = timed(naive_pytorch_fid, plain, sub)
            feats_v, tv = timed(compiled.features, sub)
            diff = float(np.abs(feats_ref - feats_v).max())
            say(f"  {'+ torch.compile, batch 50 (after compiling)':55s} {len(sub) / tv:6.2f} img/s  "
                f"(A {len(sub) / ta:6.2f})  {ta / tv:.2f}x  max|diff| {diff:.2g}")  # fmt: skip
            ablation.append({"variant": "fused + channels_last + torch.compile, batch 50",
                             "images_per_s": len(sub) / tv,
                             "a_images_per_s": len(sub) / ta, "ratio": ta / tv, "max_abs_diff": diff,
                             "compile_seconds": t_compile})  # fmt: skip
        result["ablation"] = ablation

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".txt").write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.with_suffix('.txt')} and {out.with_suffix('.json')}")


class _Features(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.pool_features(x)


class _ScriptedRunner:
    """The naive loop, but through a frozen, inference-optimised TorchScript."""

    def __init__(self, scripted: torch.jit.ScriptModule) -> None:
        self.scripted = scripted

    def features(self, images: np.ndarray) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), BASELINE_BATCH):
                batch = torch.from_numpy(images[start : start + BASELINE_BATCH]).float() / 255
                batch = F.interpolate(batch[:, None].repeat(1, 3, 1, 1), size=(299, 299), mode="bilinear",
                                      align_corners=False)  # fmt: skip
                out.append(self.scripted(2 * batch - 1).numpy().astype(np.float64))
        return np.concatenate(out)


if __name__ == "__main__":
    main()
