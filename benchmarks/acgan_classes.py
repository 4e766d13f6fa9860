"""Per class, what ACGAN's own discriminator and gankit's domain classifier say about its samples.

For each kept run (``benchmarks/image_models.py`` keeps them under ``/tmp/gankit-image-models``)
and each class c: ``n`` EMA samples G(z, c) (z from ``torch.Generator().manual_seed(seed)``,
one stream for all classes in order), then

* ``d_cls``: the share D's class head assigns to c (what G's class loss optimises; argmax over
  the K real classes, so with ``recipe.fake_class`` its fake class is left out),
* ``clf``: the share gankit's classifier for the dataset assigns to c (``class_acc``'s measure),
* ``clf_top``: the class gankit's classifier gives most of them,
* ``d_real``: D's mean probability that they are real (σ of its adversarial logit).

A class where ``d_cls`` is high but ``clf`` low is one where G satisfies D's classifier with
images that are not of the class (an adversarial example of D's class head).

usage: python benchmarks/acgan_classes.py RUN_DIR [RUN_DIR ...] [--n 500] [--seed 0]
           [--out benchmarks/results/image_models/acgan_classes.txt]
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

from gankit.atomic import atomic_write
from gankit.metrics.classifier.load import load_classifier, predict
from gankit.runs import load_run

sys.path.insert(0, os.path.dirname(__file__))
from records import Refused, run_main  # noqa: E402


def class_report(run_dir: str, n: int, seed: int) -> list[str]:
    run = load_run(run_dir)
    if run.cfg.recipe.name != "acgan":
        raise Refused(f"{run_dir}: recipe {run.cfg.recipe.name!r}, not acgan")
    nets = run.nets()
    d = nets["D"].eval()
    clf = load_classifier(run.cfg.data.name)
    gen = torch.Generator().manual_seed(seed)
    lines = [f"{run_dir} (step {run.step})", "class  d_cls   clf     clf_top  d_real"]
    for c in range(clf.num_classes):
        z = torch.randn(n, run.cfg.model.z_dim, generator=gen)  # (n, z_dim)
        y = torch.full((n,), c)
        with torch.no_grad():
            x = run.recipe.sample(nets, z, y)  # (n, C, H, W)
            out = d(x)
        clf_labels = torch.as_tensor(predict(clf, x)[0])  # (n,)
        d_cls = float((out.class_logits.argmax(1) == c).float().mean())
        lines.append(f"{c:5d}  {d_cls:.3f}   {float((clf_labels == c).float().mean()):.3f}   "
                     f"{int(torch.bincount(clf_labels, minlength=clf.num_classes).argmax()):7d}  "
                     f"{float(torch.sigmoid(out.logits).mean()):.3f}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--n", type=int, default=500, help="samples per class")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "image_models",
                                                  "acgan_classes.txt"))
    args = ap.parse_args()
    lines = [f"command: python {' '.join(sys.argv)}", f"torch threads: {torch.get_num_threads()}"]
    for run_dir in args.runs:
        lines += ["", *class_report(run_dir, args.n, args.seed)]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    with atomic_write(args.out, "w") as fh:
        fh.write(text)


if __name__ == "__main__":
    run_main(main)
