"""pix2pix's ablations at our scale (Isola et al. 2017, Tables 1-3), PAN beside pix2pix (Wang et al.
2018), and the adversarial-vs-pixel-loss question on inpainting.

Variants (each trains its task's preset with a few overrides):

* objective: ``l1`` (``recipe.adv_weight=0``, the pixel-loss-only baseline), ``mse`` (the same with the
  squared error, ``recipe.pixel_loss=mse``), ``cgan`` (``recipe.l1_weight=0``), ``l1+cgan`` (the preset:
  λ = 100, 16x16 PatchGAN, U-Net);
* generator: ``encdec`` (L1 + cGAN, ``model.unet_skips=false``) against the U-Net of ``l1+cgan``;
* receptive field of D: ``pixelgan`` (1x1), ``l1+cgan`` (16x16 patches), ``imagegan`` (the whole image);
* ``pan``: the ``edges2fashion-pan`` networks and losses on the task's data.

Tasks: ``fashion`` (Sobel edges -> Fashion-MNIST, ``edges2fashion-pix2pix``), ``mnist`` (edges ->
MNIST, ``edges2mnist-pix2pix``) and ``inpaint`` (a 14x14 hole -> the full digit,
``mnist-inpaint-pix2pix``). Each (task, variant, seed) trains for ``--steps`` generator steps
(default: the preset's) and scores the EMA generator on the first ``--n-eval`` test pairs: the
shipped domain classifier's accuracy on the outputs against the source labels (the FCN-score
analogue: did the 7 stay a 7?), FID between the outputs' and the targets' classifier features,
SSIM, PSNR and L1 against the targets, and the mean per-pixel standard deviation over
``--draws`` outputs of the same inputs with dropout kept on (``model.unet_dropout_at_test``):
0 for a deterministic G, the spread of a G whose noise matters.

Each scored run appends one JSON line to ``<out>/runs.jsonl``; ``--summarise`` writes the
markdown table (mean ± s.e. over seeds) to ``<out>/summary.md``. Every run also saves rows of the
first 8 test pairs as ``<out>/grids/<task>-<variant>-seed<seed>.png``: input | output (dropout off)
| ``GRID_DRAWS`` outputs with dropout on | target.

usage: python benchmarks/pix2pix_ablation.py --tasks fashion,mnist --seeds 0,1,2 --data-dir ../shared/data
           # full table: 8 variants x 3 seeds x ~13 CPU-min per task
       python benchmarks/pix2pix_ablation.py --tasks inpaint --variants l1,mse,l1+cgan --data-dir ../shared/data
       python benchmarks/pix2pix_ablation.py --tasks fashion --variants l1,l1+cgan --seeds 0 --steps 5 \\
           --n-eval 100 --out /tmp/p2p --data-dir ../shared/data     # smoke
       python benchmarks/pix2pix_ablation.py --summarise
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict

import torch

from gankit.config import DataConfig
from gankit.data.base import build_dataset
from gankit.metrics.classifier import features, load_classifier, predict
from gankit.metrics.statistics import frechet_distance
from gankit.metrics.statistics.paired import paired_l1, psnr, ssim
from gankit.presets import load_preset
from gankit.train.trainer import Trainer
from gankit.viz.grid import save_image_grid

sys.path.insert(0, os.path.dirname(__file__))
from records import Refused, append_record, log_invocation, mean_se, read_records, run_main, write_summary  # noqa: E402

TASKS = {  # task -> (dataset, pix2pix preset, domain classifier)
    "fashion": ("fashion-edges", "edges2fashion-pix2pix", "fashion-mnist"),
    "mnist": ("mnist-edges", "edges2mnist-pix2pix", "mnist"),
    "inpaint": ("mnist-inpaint", "mnist-inpaint-pix2pix", "mnist"),
}
VARIANTS = {  # variant -> (preset kind, overrides)
    "l1": ("pix2pix", ["recipe.adv_weight=0"]),
    "mse": ("pix2pix", ["recipe.adv_weight=0", "recipe.pixel_loss=mse"]),
    "cgan": ("pix2pix", ["recipe.l1_weight=0"]),
    "l1+cgan": ("pix2pix", []),
    "encdec": ("pix2pix", ["model.unet_skips=false"]),
    "pixelgan": ("pix2pix", ["model.d_field=pixel"]),
    "imagegan": ("pix2pix", ["model.d_field=image"]),
    "pan": ("pan", []),
}
PAN_PRESET = "edges2fashion-pan"
BATCH = 500
GRID_N = 8  # test pairs drawn in each run's grid
GRID_DRAWS = 2  # dropout-on outputs drawn under the deterministic one


def config(task: str, variant: str, seed: int, steps: int | None, data_dir: str, extra: list[str]):
    dataset, preset, _ = TASKS[task]
    kind, overrides = VARIANTS[variant]
    base = [f"train.seed={seed}", "train.progress=false", "train.sample_every=0", "train.checkpoint_every=0",
            f"data.name={dataset}", *([f"train.steps={steps}"] if steps else [])]
    if data_dir:
        base += [f"data.path={data_dir}", "data.download=false"]
    return load_preset(PAN_PRESET if kind == "pan" else preset, [*base, *overrides, *extra])


def test_pairs(task: str, n: int, data_dir: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The first ``n`` test examples: inputs ``a``, targets ``b``, labels ``y``."""
    ds = build_dataset(DataConfig(name=TASKS[task][0], split="test", limit=n, path=data_dir, download=not data_dir))
    return ds.field("a").float(), ds.field("b").float(), ds.y


@torch.no_grad()
def translate(trainer: Trainer, a: torch.Tensor, noisy: bool = False) -> torch.Tensor:
    """The EMA generator's outputs on ``a`` in eval mode (dropout on when ``noisy``)."""
    nets = trainer.sampling_nets(use_ema=True)
    modes = {k: m.training for k, m in nets.items()}
    for m in nets.values():
        m.eval()
    dropouts = [m for m in nets["G"].modules() if hasattr(m, "always")]
    for d in dropouts:
        d.always = noisy
    try:
        return torch.cat([trainer.recipe.translate(nets, a[i : i + BATCH].to(trainer.device)).float().cpu()
                          for i in range(0, len(a), BATCH)])
    finally:
        for d in dropouts:
            d.always = False
        for k, m in nets.items():
            m.train(modes[k])


def train_and_translate(cfg, a: torch.Tensor, draws: int) -> tuple[torch.Tensor, torch.Tensor | None, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, tmp)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        while trainer.step < cfg.train.steps:
            trainer.train_step()
        facts = {"steps": trainer.step, "cpu_s": round(time.process_time() - cpu0, 1),
                 "wall_s": round(time.perf_counter() - wall0, 1), "preset": cfg.name}
        out = translate(trainer, a)
        spread = None
        if draws > 1:
            torch.manual_seed(0)
            spread = torch.stack([translate(trainer, a, noisy=True) for _ in range(draws)])  # (draws, N, C, H, W)
    return out, spread, facts


def score(out: torch.Tensor, spread: torch.Tensor | None, b: torch.Tensor, y: torch.Tensor, clf_name: str) -> dict:
    clf = load_classifier(clf_name)
    labels, _ = predict(clf, out)
    return {"class_acc": float((torch.as_tensor(labels) == y).double().mean()),
            "fid_classifier": frechet_distance(features(clf, b), features(clf, out)),
            "ssim": ssim(out, b), "psnr": psnr(out, b), "l1": paired_l1(out, b),
            "dropout_std": float(spread.std(dim=0).mean()) if spread is not None else None}


def summarise(path: str) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    order = list(VARIANTS)
    for r in read_records(path):
        groups[r["task"], order.index(r["variant"]), r["variant"], r["steps"], r["n_eval"],
               " ".join(r["overrides"])].append(r)
    lines = ["| task | variant | steps | test pairs | overrides | seeds | classifier acc % ↑ | FID (classifier) ↓ "
             "| SSIM ↑ | PSNR dB ↑ | L1 ↓ | dropout std | CPU s |", "|---" * 13 + "|"]
    for (task, _, variant, steps, n_eval, extra), rs in sorted(groups.items()):
        spread = [r["dropout_std"] for r in rs if r.get("dropout_std") is not None]
        lines.append(f"| {task} | {variant} | {steps} | {n_eval} | {extra or '-'} | {len(rs)} "
                     f"| {mean_se(100 * r['class_acc'] for r in rs)} | {mean_se(r['fid_classifier'] for r in rs)} "
                     f"| {mean_se(r['ssim'] for r in rs)} | {mean_se(r['psnr'] for r in rs)} "
                     f"| {mean_se(r['l1'] for r in rs)} | {mean_se(spread) if spread else '-'} "
                     f"| {mean_se((r['cpu_s'] for r in rs), '.0f')} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default="fashion,mnist")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--steps", type=int, default=0, help="generator steps (0: the preset's)")
    ap.add_argument("--n-eval", type=int, default=2000, help="test pairs scored")
    ap.add_argument("--draws", type=int, default=4, help="outputs per input with dropout on, for the spread (<2: off)")
    ap.add_argument("--data-dir", default="", help="directory with the MNIST-format files (data.path)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra config override")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "translation", "pix2pix"))
    ap.add_argument("--summarise", action="store_true", help="print the table of <out>/runs.jsonl and exit")
    args = ap.parse_args()
    if args.summarise:
        write_summary(args.out, summarise(os.path.join(args.out, "runs.jsonl")))
        return
    tasks, variants = args.tasks.split(","), args.variants.split(",")
    for t in tasks:
        if t not in TASKS:
            raise Refused(f"--tasks: unknown {t!r} (known: {', '.join(TASKS)})")
    for v in variants:
        if v not in VARIANTS:
            raise Refused(f"--variants: unknown {v!r} (known: {', '.join(VARIANTS)})")
    seeds = [int(s) for s in args.seeds.split(",")]
    for t in tasks:
        dim = load_classifier(TASKS[t][2]).arch.feature_dim
        if args.n_eval <= dim:  # FID's covariance of the targets' features would be singular
            raise Refused(f"--n-eval must exceed the {TASKS[t][2]} classifier's {dim} feature dimensions for FID, "
                          f"got {args.n_eval}")
    for t in tasks:  # every config parses before anything is logged or trained
        for v in variants:
            config(t, v, 0, args.steps or None, args.data_dir, args.set)
    path = log_invocation(args.out, torch_threads=torch.get_num_threads())
    for t in tasks:
        a, b, y = test_pairs(t, args.n_eval, args.data_dir)
        for v in variants:
            for seed in seeds:
                cfg = config(t, v, seed, args.steps or None, args.data_dir, args.set)
                out, spread, facts = train_and_translate(cfg, a, args.draws)
                rec = {"task": t, "variant": v, "seed": seed, "n_eval": len(a), "overrides": args.set, **facts,
                       **score(out, spread, b, y, TASKS[t][2]), "torch_threads": torch.get_num_threads()}
                append_record(path, rec)
                draws = [] if spread is None else list(spread[:GRID_DRAWS, :GRID_N])
                rows = torch.cat([a[:GRID_N], out[:GRID_N], *draws, b[:GRID_N]])  # ((3 + draws)·8, C, H, W)
                save_image_grid(rows, os.path.join(args.out, "grids", f"{t}-{v}-seed{seed}.png"), nrow=GRID_N,
                                upscale=2)


if __name__ == "__main__":
    run_main(main)
