"""CycleGAN on unpaired MNIST <-> scikit-learn's 8x8 digits (upscaled into 28x28): is the digit's
label preserved in both directions, and does the cycle-consistency loss matter? (Zhu et al.
2017, §5.1.1: the cycle loss is what keeps a translation tied to its input.)

Methods: ``cyclegan`` (the ``mnist2digits-cyclegan`` preset) and ``no-cycle`` (the same with
``recipe.cycle_weight=0``: GAN losses alone, which also drops the identity loss). Each
(method, seed) trains for ``--steps`` generator steps (default: the preset's), then translates
the test split of each domain with the EMA generators and classifies the outputs with the
shipped classifier of the *target* domain: MNIST -> digits scored by the digits classifier
against the MNIST labels, digits -> MNIST by the MNIST classifier against the digits labels.
The digits domain's framing is the preset's ``data.digit_box`` (20: the 8x8 digits fill a centred
20x20 box, as MNIST's digits do; 0: the whole frame). The 8x8 digits classifier reads an output
as the digits domain holds its digits: the box, brought back to 8x8 by the least-squares inverse
of the domain's bilinear upscaling (exact on the domain's own images, where resizing back would
blur them and the classifier would misread many).
``identity`` (no training) scores the untranslated test images the same way: how much of the
label a classifier of the other domain reads without any translation. Target of the issue:
>= 90 % preserved both ways, the ablation clearly lower.

Each scored run appends one JSON line to ``<out>/runs.jsonl`` and draws the first ``GRID_N``
test images of each domain above their translations (rows MNIST | -> digits | digits | -> MNIST)
in ``<out>/grids/<method>[-box<B>]-seed<S>-steps<N>.png``; ``--summarise`` writes the markdown table
(mean ± s.e. over seeds) to ``<out>/summary.md``.

usage: python benchmarks/cyclegan_digits.py --methods identity,cyclegan,no-cycle --seeds 0,1,2 \
           [--data-dir ../shared/data]     # full table: about 2 x 15 CPU-min per seed
       python benchmarks/cyclegan_digits.py --seeds 0 --steps 20 --n-eval 200 --out /tmp/cg   # smoke
       python benchmarks/cyclegan_digits.py --summarise
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
from gankit.data.transforms import domain_view
from gankit.data.unpaired import DIGITS_SIDE, MNIST_SIDE
from gankit.metrics.classifier import load_classifier, predict
from gankit.presets import load_preset
from gankit.train.trainer import Trainer
from gankit.viz.grid import save_image_grid

sys.path.insert(0, os.path.dirname(__file__))
from records import Refused, append_record, log_invocation, mean_se, read_records, run_main, write_summary  # noqa: E402

PRESET = "mnist2digits-cyclegan"
METHODS = {"identity": None, "cyclegan": [], "no-cycle": ["recipe.cycle_weight=0"]}
# direction -> (source field, its labels, classifier of the target domain)
DIRECTIONS = {"ab": ("a", "y_a", "digits"), "ba": ("b", "y_b", "mnist")}
BATCH = 500
GRID_N = 8  # test images drawn per domain and run


def digit_box(extra: list[str]) -> int:
    """The side of the box the digits domain fills under the preset with ``extra`` (28 = whole frame)."""
    data = load_preset(PRESET, extra).data
    return data.digit_box or data.resolution or MNIST_SIDE


def test_domains(n: int, data_dir: str, box: int) -> dict[str, torch.Tensor]:
    """The first ``n`` test images and labels of each domain (fields a, y_a, b, y_b)."""
    ds = build_dataset(DataConfig(name="mnist2digits", split="test", limit=n, path=data_dir, download=not data_dir,
                                  digit_box=box))
    return {k: ds.field(k) for k in ("a", "y_a", "b", "y_b")}


def train_and_translate(seed: int, steps: int | None, data_dir: str, extra: list[str],
                        test: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict]:
    overrides = [f"train.seed={seed}", "train.progress=false", "train.sample_every=0", "train.checkpoint_every=0",
                 *([f"train.steps={steps}"] if steps else [])]
    if data_dir:
        overrides += [f"data.path={data_dir}", "data.download=false"]
    cfg = load_preset(PRESET, [*overrides, *extra])
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, tmp)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        while trainer.step < cfg.train.steps:
            trainer.train_step()
        facts = {"steps": trainer.step, "cpu_s": round(time.process_time() - cpu0, 1),
                 "wall_s": round(time.perf_counter() - wall0, 1)}
        nets = trainer.sampling_nets(use_ema=True)
        for m in nets.values():
            m.eval()
        out = {}
        with torch.no_grad():
            for direction, (field, _, _) in DIRECTIONS.items():
                x = test[field].float()
                out[direction] = torch.cat([trainer.recipe.translate(nets, x[i : i + BATCH], direction).float()
                                            for i in range(0, len(x), BATCH)])
    return out, facts


def preserved(outputs: dict[str, torch.Tensor], test: dict[str, torch.Tensor], box: int) -> dict[str, float]:
    """Fraction of outputs the target domain's classifier gives the source label."""
    scores = {}
    for direction, (_, labels, classifier) in DIRECTIONS.items():
        x = outputs[direction]
        if classifier == "digits":  # as SampleSet.classifier_view reads mnist2digits' domain b
            x = domain_view(x, box, DIGITS_SIDE)
        predicted, _ = predict(load_classifier(classifier), x)
        scores[f"preserved_{direction}"] = float((torch.as_tensor(predicted) == test[labels]).double().mean())
    return scores


def save_rows(out_dir: str, rec: dict, test: dict[str, torch.Tensor], outputs: dict[str, torch.Tensor]) -> str:
    """Rows MNIST | MNIST -> digits | digits | digits -> MNIST of the first ``GRID_N`` test images."""
    k = min(GRID_N, len(test["a"]), len(test["b"]))
    rows = torch.cat([test["a"][:k].float(), outputs["ab"][:k], test["b"][:k].float(), outputs["ba"][:k]])
    framing = f"-box{rec['digit_box']}" if rec.get("digit_box", MNIST_SIDE) != MNIST_SIDE else ""
    name = f"{rec['method']}{framing}-seed{rec['seed']}-steps{rec['steps']}.png"
    return str(save_image_grid(rows, os.path.join(out_dir, "grids", name), nrow=k, upscale=2))


def summarise(path: str) -> str:
    """Mean ± s.e. over seeds per (digits framing, how the digits classifier read, method, steps, ...);
    records before the least-squares reader resized outputs to 8x8 ("resize")."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in read_records(path):
        groups[r.get("digit_box", MNIST_SIDE), r.get("digits_reader", "resize"), list(METHODS).index(r["method"]),
               r["method"], r["steps"], r["n_eval"], " ".join(r["overrides"])].append(r)
    lines = ["| digits box | digits read by | method | steps | test images (MNIST/digits) | overrides | seeds "
             "| MNIST -> digits: label kept % | digits -> MNIST: label kept % | CPU s |", "|---" * 10 + "|"]
    for (box, reader, _, method, steps, n_eval, extra), rs in sorted(groups.items()):
        ab, ba = (mean_se(100 * r[f"preserved_{d}"] for r in rs) for d in ("ab", "ba"))
        lines.append(f"| {box} | {reader} | {method} | {steps} | {n_eval} | {extra or '-'} | {len(rs)} | {ab} | {ba} "
                     f"| {mean_se((r['cpu_s'] for r in rs), '.0f')} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--steps", type=int, default=0, help="generator steps (0: the preset's)")
    ap.add_argument("--n-eval", type=int, default=2000, help="test images per domain (digits has 297)")
    ap.add_argument("--data-dir", default="", help="folder holding mnist/ (data.path)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra config override")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "translation",
                                                  "cyclegan_digits"))
    ap.add_argument("--summarise", action="store_true", help="print the table of <out>/runs.jsonl and exit")
    args = ap.parse_args()
    if args.summarise:
        write_summary(args.out, summarise(os.path.join(args.out, "runs.jsonl")))
        return
    methods = args.methods.split(",")
    for m in methods:
        if m not in METHODS:
            raise Refused(f"--methods: unknown {m!r} (known: {', '.join(METHODS)})")
        if METHODS[m] is not None:
            load_preset(PRESET, [*METHODS[m], *args.set])  # every config parses before anything is logged
    path = log_invocation(args.out, torch_threads=torch.get_num_threads())
    box = digit_box(args.set)
    test = test_domains(args.n_eval, args.data_dir, box)
    n_eval = f"{len(test['a'])}/{len(test['b'])}"  # MNIST / digits test images
    for m in methods:
        for seed in ([0] if METHODS[m] is None else [int(s) for s in args.seeds.split(",")]):
            if METHODS[m] is None:
                outputs, facts = {"ab": test["a"].float(), "ba": test["b"].float()}, {"steps": 0, "cpu_s": 0.0,
                                                                                      "wall_s": 0.0}
            else:
                outputs, facts = train_and_translate(seed, args.steps or None, args.data_dir,
                                                     [*METHODS[m], *args.set], test)
            rec = {"method": m, "seed": seed, "n_eval": n_eval, "overrides": args.set, "digit_box": box,
                   "digits_reader": "least-squares inverse", **facts,
                   **preserved(outputs, test, box), "torch_threads": torch.get_num_threads()}
            append_record(path, rec)
            save_rows(args.out, rec, test, outputs)


if __name__ == "__main__":
    run_main(main)
