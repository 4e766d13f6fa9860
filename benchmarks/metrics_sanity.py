"""Metric sanity on MNIST test images: does each metric move the right way?

Reference ("real") = half A of the MNIST test set (a seeded random half); each condition is
compared against it through ``gankit.metrics.evaluate`` (real features cached):

* ``real``      the other half B (disjoint): the best any model could do;
* ``noise σ``   B + Gaussian noise σ ∈ {0.1, 0.3} in [-1, 1] units, clipped to [-1, 1];
* ``blur σ``    B blurred with a Gaussian kernel σ ∈ {1, 2} pixels (separable, reflect padding);
* ``collapse``  digit 1 only (mode collapse): the first N ones of the MNIST *train* split (the
                test split holds only 1,135 ones, and half of them are in A).

Two feature spaces: the shipped MNIST classifier (128-d, N = 5,000 vs 5,000) and the FID
Inception (2048-d, N = ``--n-inception`` per set, skipped with a note if its weights are not
available). With N <= 2048 the Inception covariances are singular, so FID is computed with
``allow_singular=True`` (biased upwards; only the ordering matters here) and KID uses subsets
of N/2. Writes ``benchmarks/results/metrics_sanity.{txt,json}``.

    python benchmarks/metrics_sanity.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from gankit.config import DataConfig
from gankit.data import build_dataset
from gankit.errors import GankitError
from gankit.metrics import evaluate
from gankit.metrics.cache import FeatureCache
from gankit.metrics.extractors import ClassifierExtractor, InceptionFeatureExtractor
from gankit.metrics.sources import samples_from_array

REPO = Path(__file__).resolve().parents[1]
METRICS = ["fid", "kid", "pr", "dc", "nn1"]
NOISE = (0.1, 0.3)
BLUR = (1.0, 2.0)
COLLAPSE_DIGIT = 1


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W), radius ceil(3σ), reflect padding."""
    radius = math.ceil(3 * sigma)
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    c = x.shape[1]
    xp = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    xp = F.conv2d(xp, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)  # horizontal
    return F.conv2d(xp, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)  # vertical, (N, C, H, W)


def conditions(data_dir: str, n: int, seed: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    test = build_dataset(DataConfig(name="mnist", split="test", path=data_dir, download=False)).x  # (10000, 1, 28, 28)
    perm = torch.randperm(test.shape[0], generator=torch.Generator().manual_seed(seed))
    a, b = test[perm[:n]], test[perm[n : 2 * n]]
    train = build_dataset(DataConfig(name="mnist", split="train", path=data_dir, download=False))
    ones = train.x[train.y == COLLAPSE_DIGIT][:n]
    g = torch.Generator().manual_seed(seed + 1)
    out = {"real (disjoint half)": b}
    for s in NOISE:
        out[f"noise σ={s}"] = (b + s * torch.randn(b.shape, generator=g)).clamp(-1, 1)
    for s in BLUR:
        out[f"blur σ={s:g}px"] = gaussian_blur(b, s).clamp(-1, 1)
    out[f"collapse (digit {COLLAPSE_DIGIT} only)"] = ones
    return a, out


def run_suite(name: str, extractor: Any, real: torch.Tensor, fakes: dict[str, torch.Tensor], n: int,
              options: dict[str, dict[str, Any]], cache: FeatureCache, log) -> dict[str, Any]:
    real_set = samples_from_array(real[:n], name="mnist test half A")
    rows: dict[str, Any] = {}
    for label, fake in fakes.items():
        start = time.perf_counter()
        res = evaluate(real_set, samples_from_array(fake[:n], name=label), METRICS, features=extractor,
                       options=options, cache=cache)
        rows[label] = {
            "n_real": res.settings["n_real"],
            "n_fake": res.metrics["fid"].settings["n"],
            "values": {k: v.value for k, v in res.metrics.items()},
            "timings": {k: round(v, 2) for k, v in res.timings.items()},
            "real_cache_hit": res.settings.get("real_cache", {}).get("hit"),
        }
        log(f"[{name}] {label}: fid {res['fid']:.4g} ({time.perf_counter() - start:.1f} s)")
    return {"extractor": extractor.describe(), "n": n, "options": options, "rows": rows}


def checks(rows: dict[str, Any]) -> list[tuple[str, bool]]:
    """Each metric's expected direction, as (statement, holds)."""
    labels = list(rows)
    rr, n1, n3, b1, b2, col = labels
    v = {k: rows[k]["values"] for k in labels}
    fid = {k: v[k]["fid"] for k in labels}
    kid = {k: v[k]["kid"]["mean"] for k in labels}
    prec = {k: v[k]["pr"]["precision"] for k in labels}
    rec = {k: v[k]["pr"]["recall"] for k in labels}
    dens = {k: v[k]["dc"]["density"] for k in labels}
    cov = {k: v[k]["dc"]["coverage"] for k in labels}
    nn = {k: v[k]["nn1"]["accuracy"] for k in labels}
    corrupt = [n1, n3, b1, b2, col]
    return [
        ("FID: real < every corruption", all(fid[rr] < fid[k] for k in corrupt)),
        ("FID: noise 0.1 < noise 0.3, blur 1 < blur 2", fid[n1] < fid[n3] and fid[b1] < fid[b2]),
        ("KID: real < every corruption", all(kid[rr] < kid[k] for k in corrupt)),
        ("KID: noise 0.1 < noise 0.3, blur 1 < blur 2", kid[n1] < kid[n3] and kid[b1] < kid[b2]),
        ("precision: real > noise 0.3 and blur 2", prec[rr] > prec[n3] and prec[rr] > prec[b2]),
        ("precision: noise 0.1 >= noise 0.3, blur 1 >= blur 2", prec[n1] >= prec[n3] and prec[b1] >= prec[b2]),
        ("recall: real > collapse (mode collapse loses recall)", rec[rr] > rec[col]),
        ("coverage: real > collapse", cov[rr] > cov[col]),
        ("density: real > noise 0.3", dens[rr] > dens[n3]),
        ("1-NN: real closest to 0.5", all(abs(nn[rr] - 0.5) < abs(nn[k] - 0.5) for k in corrupt)),
        ("1-NN: noise 0.1 <= noise 0.3, blur 1 <= blur 2", nn[n1] <= nn[n3] and nn[b1] <= nn[b2]),
    ]


def table(suite: dict[str, Any]) -> list[str]:
    head = (
        f"{'condition':<26} {'FID':>9} {'KID mean ± std':>21} {'prec':>6} {'recall':>6} {'density':>7} "
        f"{'cover':>6} {'1-NN':>6} {'1-NN r/f':>11} {'s':>6}"
    )
    lines = [head, "-" * len(head)]
    for label, row in suite["rows"].items():
        v = row["values"]
        kid = f"{v['kid']['mean']:.5f} ± {v['kid']['std']:.5f}"
        nn = v["nn1"]
        rf = f"{nn['real_accuracy']:.3f}/{nn['fake_accuracy']:.3f}"
        lines.append(
            f"{label:<26} {v['fid']:9.3f} {kid:>21} {v['pr']['precision']:6.3f} {v['pr']['recall']:6.3f} "
            f"{v['dc']['density']:7.3f} {v['dc']['coverage']:6.3f} {nn['accuracy']:6.3f} {rf:>11} "
            f"{row['timings']['total']:6.1f}"
        )
    lines.append("")
    for statement, ok in checks(suite["rows"]):
        lines.append(f"  [{'ok' if ok else 'NO'}] {statement}")
    return lines


def machine() -> dict[str, Any]:
    model = platform.processor() or ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return {
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "loadavg_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    p.add_argument("--n-classifier", type=int, default=5000, help="samples per set, classifier features")
    p.add_argument("--n-inception", type=int, default=400, help="samples per set, Inception features (0 skips)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    p.add_argument("--out-dir", default=str(REPO / "benchmarks" / "results"))
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731

    real, fakes = conditions(args.data_dir, args.n_classifier, args.seed)
    info = machine()
    command = "python benchmarks/metrics_sanity.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    report: dict[str, Any] = {"command": command.strip(), "seed": args.seed, "machine": info,
                              "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "suites": {}}
    with tempfile.TemporaryDirectory() as tmp:
        cache = FeatureCache(tmp)
        n = args.n_classifier
        opts = {"kid": {"subset_size": min(1000, n // 2)}}  # torch-fidelity's 1000 at n = 5,000
        report["suites"]["classifier"] = run_suite(
            "classifier", ClassifierExtractor("mnist"), real, fakes, n, opts, cache, log)
        if args.n_inception > 0:
            try:
                ext = InceptionFeatureExtractor(allow_download=False, num_threads=args.threads)
                ext.describe()
            except GankitError as exc:
                report["suites"]["inception"] = {"skipped": f"Inception weights unavailable: {exc}"}
            else:
                m = args.n_inception
                opts = {"fid": {"allow_singular": True}, "kid": {"subset_size": m // 2}}
                report["suites"]["inception"] = run_suite("inception", ext, real, fakes, m, opts, cache, log)
    report["wall_s"] = round(time.perf_counter() - t0, 1)

    lines = [
        f"command: {report['command']}",
        f"seed: {args.seed}",
        f"machine: {info['cpu_model']} ({info['cpu_count']} CPUs), torch {info['torch']}, "
        f"{info['torch_threads']} threads, python {info['python']}, loadavg at start {info['loadavg_at_start']}",
        f"date: {report['date_utc']}, wall time {report['wall_s']} s",
        "reference: MNIST test half A (seeded random 5,000); each condition built from the other half B",
        "",
    ]
    for name, suite in report["suites"].items():
        if "skipped" in suite:
            lines += [f"== {name} features: SKIPPED ({suite['skipped']})", ""]
            continue
        ext = suite["extractor"]
        detail = ext.get("classifier") or ext.get("weights_file")
        lines.append(f"== {name} features ({detail}, weights sha256 {ext['weights_sha256'][:12]}), "
                     f"{suite['n']} vs {suite['n']} samples, options {json.dumps(suite['options'])}")
        if name == "inception":
            lines.append(f"   N = {suite['n']} <= 2048 feature dims: "
                         "FID with allow_singular=True (biased up; ordering only)")
        lines += table(suite) + [""]
    text = "\n".join(lines)
    print(text)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics_sanity.txt").write_text(text + "\n", encoding="utf-8")
    (out / "metrics_sanity.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
