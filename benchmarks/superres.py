"""x4 super-resolution on MNIST and Fashion-MNIST (7x7 block means -> 28x28): bicubic
interpolation, SRResNet (pixel MSE) and SRGAN (feature content loss + 1e-3 adversarial), the
comparison of Ledig et al. 2017 (Table 2) at our scale. The paper's finding to test: the MSE
model wins PSNR/SSIM, SRGAN wins the perceptual measures (here FID on the shipped domain
classifier's features and that classifier's accuracy on the outputs, against the labels of the
low-resolution sources: is a 7 still a 7?).

Each (dataset, method, seed) trains its preset (``mnist-superres4-srresnet``,
``mnist-superres4-srgan``, ``fashion-superres4-srgan``; Fashion's SRResNet is the MNIST preset
on ``fashion-superres4``) for ``--steps`` generator steps (default: the preset's), then scores
the EMA generator on the first ``--n-eval`` examples of the test split: PSNR and SSIM against
the 28x28 targets (``gankit.metrics.statistics.paired``, torchmetrics), FID between the outputs'
and the targets' classifier features, and the classifier's accuracy on the outputs. Bicubic
needs no training (one record per dataset).

Each scored run appends one JSON line to ``<out>/runs.jsonl`` and draws its first ``GRID_N``
test examples as rows input (enlarged) | output | target in
``<out>/grids/<dataset>-<method>-seed<S>-steps<N>.png``; ``--summarise`` writes the markdown
table (mean ± s.e. over seeds) to ``<out>/summary.md``.

usage: python benchmarks/superres.py --datasets mnist,fashion --methods bicubic,srresnet,srgan --seeds 0,1,2 \
           [--data-dir ../shared/data]    # full table: about 25 CPU-min per seed and dataset
       python benchmarks/superres.py --datasets mnist --seeds 0 --steps 20 --n-eval 200 --out /tmp/sr   # smoke
       python benchmarks/superres.py --summarise
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict

import torch
import torch.nn.functional as F

from gankit.config import DataConfig
from gankit.data.base import build_dataset
from gankit.metrics.classifier import features, load_classifier, predict
from gankit.metrics.statistics import frechet_distance
from gankit.metrics.statistics.paired import psnr, ssim
from gankit.presets import load_preset
from gankit.train.trainer import Trainer
from gankit.viz.grid import save_image_grid

sys.path.insert(0, os.path.dirname(__file__))
from records import Refused, append_record, log_invocation, mean_se, read_records, run_main, write_summary  # noqa: E402

DATASETS = {"mnist": ("mnist-superres4", "mnist"), "fashion": ("fashion-superres4", "fashion-mnist")}
PRESETS = {("mnist", "srresnet"): "mnist-superres4-srresnet", ("mnist", "srgan"): "mnist-superres4-srgan",
           ("fashion", "srresnet"): "mnist-superres4-srresnet", ("fashion", "srgan"): "fashion-superres4-srgan"}
METHODS = ("bicubic", "srresnet", "srgan")
SCALE = 4
BATCH = 500
GRID_N = 8  # test examples drawn per run


def test_pairs(dataset: str, n: int, data_dir: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The first ``n`` test examples: low-resolution ``a``, targets ``b``, labels ``y``."""
    name = DATASETS[dataset][0]
    ds = build_dataset(DataConfig(name=name, split="test", limit=n, path=data_dir, download=not data_dir))
    return ds.field("a").float(), ds.field("b").float(), ds.y


def bicubic(a: torch.Tensor) -> torch.Tensor:
    return F.interpolate(a, scale_factor=SCALE, mode="bicubic", align_corners=False).clamp(-1, 1)  # (N, C, 4h, 4w)


def train_and_upscale(dataset: str, method: str, seed: int, steps: int | None, data_dir: str, extra: list[str],
                      a: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """Train the method's preset and return its EMA generator's outputs on ``a`` and the run facts."""
    overrides = [f"train.seed={seed}", "train.progress=false", "train.sample_every=0", "train.checkpoint_every=0",
                 f"data.name={DATASETS[dataset][0]}", *([f"train.steps={steps}"] if steps else [])]
    if data_dir:
        overrides += [f"data.path={data_dir}", "data.download=false"]
    cfg = load_preset(PRESETS[dataset, method], [*overrides, *extra])
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, tmp)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        while trainer.step < cfg.train.steps:
            trainer.train_step()
        facts = {"steps": trainer.step, "cpu_s": round(time.process_time() - cpu0, 1),
                 "wall_s": round(time.perf_counter() - wall0, 1), "preset": PRESETS[dataset, method]}
        nets = trainer.sampling_nets(use_ema=True)
        modes = {k: m.training for k, m in nets.items()}
        for m in nets.values():
            m.eval()
        with torch.no_grad():
            out = torch.cat([trainer.recipe.translate(nets, a[i : i + BATCH]).float() for i in range(0, len(a), BATCH)])
        for k, m in nets.items():
            m.train(modes[k])
    return out, facts


def score(out: torch.Tensor, b: torch.Tensor, y: torch.Tensor, classifier_name: str) -> dict:
    clf = load_classifier(classifier_name)
    labels, _ = predict(clf, out)
    return {"psnr": psnr(out, b), "ssim": ssim(out, b),
            "fid_classifier": frechet_distance(features(clf, b), features(clf, out)),
            "class_acc": float((torch.as_tensor(labels) == y).double().mean())}


def save_rows(out_dir: str, rec: dict, a: torch.Tensor, out: torch.Tensor, b: torch.Tensor) -> str:
    """Rows input (enlarged, nearest) | output | target of the first ``GRID_N`` examples."""
    k = min(GRID_N, len(a))
    rows = torch.cat([F.interpolate(a[:k], size=b.shape[2:], mode="nearest"), out[:k], b[:k]])  # (3k, C, H, W)
    name = f"{rec['dataset']}-{rec['method']}-seed{rec['seed']}-steps{rec['steps']}.png"
    return str(save_image_grid(rows, os.path.join(out_dir, "grids", name), nrow=k, upscale=2))


def summarise(path: str) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in read_records(path):
        groups[r["dataset"], METHODS.index(r["method"]), r["method"], r["steps"], r["n_eval"],
               " ".join(r["overrides"])].append(r)
    lines = ["| dataset | method | steps | test images | overrides | seeds | PSNR dB ↑ | SSIM ↑ | FID (classifier) ↓ "
             "| classifier acc % ↑ | CPU s |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (dataset, _, method, steps, n_eval, extra), rs in sorted(groups.items()):
        lines.append(f"| {dataset} | {method} | {steps} | {n_eval} | {extra or '-'} | {len(rs)} "
                     f"| {mean_se(r['psnr'] for r in rs)} | {mean_se(r['ssim'] for r in rs)} "
                     f"| {mean_se(r['fid_classifier'] for r in rs)} | {mean_se(100 * r['class_acc'] for r in rs)} "
                     f"| {mean_se((r['cpu_s'] for r in rs), '.0f')} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="mnist,fashion")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--steps", type=int, default=0, help="generator steps (0: the preset's)")
    ap.add_argument("--n-eval", type=int, default=2000, help="test examples scored")
    ap.add_argument("--data-dir", default="", help="folder holding mnist/ and fashion-mnist/ (data.path)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra config override")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "translation", "superres"))
    ap.add_argument("--summarise", action="store_true", help="print the table of <out>/runs.jsonl and exit")
    args = ap.parse_args()
    if args.summarise:
        write_summary(args.out, summarise(os.path.join(args.out, "runs.jsonl")))
        return
    datasets, methods = args.datasets.split(","), args.methods.split(",")
    for d in datasets:
        if d not in DATASETS:
            raise Refused(f"--datasets: unknown {d!r} (known: {', '.join(DATASETS)})")
    for m in methods:
        if m not in METHODS:
            raise Refused(f"--methods: unknown {m!r} (known: {', '.join(METHODS)})")
    for d in datasets:  # every config parses before anything is logged or trained
        for m in methods:
            if m != "bicubic":
                load_preset(PRESETS[d, m], [f"data.name={DATASETS[d][0]}", *args.set])
    path = log_invocation(args.out, torch_threads=torch.get_num_threads())
    for d in datasets:
        a, b, y = test_pairs(d, args.n_eval, args.data_dir)
        for m in methods:
            for seed in ([0] if m == "bicubic" else [int(s) for s in args.seeds.split(",")]):
                if m == "bicubic":
                    out, facts = bicubic(a), {"steps": 0, "cpu_s": 0.0, "wall_s": 0.0, "preset": "-"}
                else:
                    out, facts = train_and_upscale(d, m, seed, args.steps or None, args.data_dir, args.set, a)
                rec = {"dataset": d, "method": m, "seed": seed, "n_eval": len(a), "overrides": args.set, **facts,
                       **score(out, b, y, DATASETS[d][1]), "torch_threads": torch.get_num_threads()}
                append_record(path, rec)
                save_rows(args.out, rec, a, out, b)


if __name__ == "__main__":
    run_main(main)
