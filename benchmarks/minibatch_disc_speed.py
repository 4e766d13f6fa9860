"""CPU time per training step of the 2-D benchmark's minibatch-discrimination GAN, two forms of the layer.

The method ``minibatch-disc`` of ``mode_collapse_2d.py`` (preset ``ring-gan``, NS loss, minibatch
discrimination with 16 kernels x 4, batch 256). The layer's cost is its L1 distances between every
pair of samples, ``O(N² B C)``:

  per_coordinate  the form before: plain autograd over ``|M_i,c - M_j,c|`` one kernel coordinate
                  at a time (``(B, N, N)`` temporaries)
  layer           gankit's layer: ``torch.cdist`` forward, a hand-written backward (still twice
                  differentiable)

Before timing, the two forms' outputs and D's parameter gradients are checked equal. Arms run
alternately (order reversed every other round) in one process with one torch thread, so machine
noise hits them alike; each keeps training its own model. Reported: CPU-ms per step per arm per
round and the ratio layer / per_coordinate (median, min, max over rounds; < 1 = faster).

usage: python benchmarks/minibatch_disc_speed.py [--rounds 7] [--steps 100] \
           [--out benchmarks/results/minibatch_disc_speed/report]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

import torch
from torch.testing import assert_close

from gankit.nets.blocks import MinibatchDiscrimination
from gankit.presets import load_preset
from gankit.train.trainer import Trainer

sys.path.insert(0, os.path.dirname(__file__))
from overhead import alternating_step_ms, machine, write_report  # noqa: E402

OVERRIDES = ["recipe.loss=ns", "model.d_minibatch=discrimination", "model.mbd_kernels=16", "model.mbd_kernel_dim=4"]


def per_coordinate_forward(layer: MinibatchDiscrimination, f: torch.Tensor) -> torch.Tensor:
    """The layer's previous form: autograd through one ``(B, N, N)`` difference per kernel coordinate."""
    m = torch.einsum("na,abc->nbc", f, layer.T)  # (N, B, C)
    l1 = sum((mc[:, :, None] - mc[:, None, :]).abs() for mc in m.permute(2, 1, 0))  # (B, N, N)
    o = torch.exp(-l1).sum(dim=2).T
    return torch.cat([f, o - 1.0 if layer.exclude_self else o], dim=1)


def mbd_layer(trainer: Trainer) -> MinibatchDiscrimination:
    (layer,) = [mod for mod in trainer.recipe.modules["D"].modules() if isinstance(mod, MinibatchDiscrimination)]
    return layer


def build_arm(name: str, seed: int, tmp: str) -> Trainer:
    overrides = [*OVERRIDES, f"train.seed={seed}", "train.progress=false", "train.sample_every=0",
                 "train.checkpoint_every=0"]
    trainer = Trainer(load_preset("ring-gan", overrides), tmp)
    if name == "per_coordinate":
        layer = mbd_layer(trainer)
        layer.forward = lambda f: per_coordinate_forward(layer, f)
    return trainer


def check_equal(seed: int) -> None:
    """Both forms: same output and same gradient of T on the same features (float64)."""
    torch.manual_seed(seed)
    layer = MinibatchDiscrimination(64, 16, 4).double()
    f = torch.randn(256, 64, dtype=torch.float64)
    grads = []
    for fn in (layer, lambda x: per_coordinate_forward(layer, x)):
        layer.T.grad = None
        out = fn(f)
        out.pow(2).sum().backward()
        grads.append((out.detach(), layer.T.grad.clone()))
    assert_close(grads[0][0], grads[1][0])
    assert_close(grads[0][1], grads[1][1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=100, help="steps per arm per round")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="write OUT.json and OUT.txt")
    args = ap.parse_args()
    torch.set_num_threads(1)
    check_equal(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        arms = {name: build_arm(name, args.seed, os.path.join(tmp, name)) for name in ("per_coordinate", "layer")}
        ms = alternating_step_ms(arms, args.rounds, args.steps)
    ratio = [t / s for t, s in zip(ms["layer"], ms["per_coordinate"])]
    report = {"command": "python " + " ".join(sys.argv), "machine": machine(), "seed": args.seed,
              "steps_per_round": args.steps, "rounds": args.rounds, "cpu_ms_per_step": ms,
              "ratio_layer_to_per_coordinate": ratio}
    lines = [f"command: {report['command']}", f"machine: {json.dumps(report['machine'])}",
             f"ring-gan + minibatch discrimination 16x4, batch 256, 1 torch thread, {args.steps} steps x "
             f"{args.rounds} rounds per arm, seed {args.seed}; outputs and gradients of the two forms checked equal"]
    for name, values in ms.items():
        lines.append(f"  {name:15s} CPU-ms/step median {statistics.median(values):6.1f}  "
                     f"per round {[round(v, 1) for v in values]}")
    lines.append(f"  ratio layer/per_coordinate  median {statistics.median(ratio):.3f}  "
                 f"min {min(ratio):.3f}  max {max(ratio):.3f}")
    print("\n".join(lines), flush=True)
    if args.out:
        write_report(args.out, report, lines)


if __name__ == "__main__":
    main()
