"""Stacked MNIST: which BatchNorm statistics should a kept run's generator sample with?

Scores a run kept by ``stacked_mnist.py --keep`` (26,000 samples on the benchmark's latents, the same
classifier and KL) for its EMA and its live (raw) generator, each in eval mode with

- ``copied``: the statistics in the checkpoint (for the EMA: a copy of the live generator's, as
  checkpoints written before ``train.ema_bn_batches`` hold; for the live net: its running averages),
- ``standing``: re-estimated for the net's own weights over ``--batches`` batches of 64 latents
  (``gankit.train.ema.recompute_batchnorm_stats``, BigGAN's standing statistics),

and in train mode (``batch64``: every batch of 64 normalised by its own statistics, as D saw G in training).

    python benchmarks/stacked_mnist_bn_stats.py --run /tmp/keep/pacdcgan2-seed3 --method pacdcgan2 --seed 3 \\
        --set model.g_width=96 --set model.d_width=128 --set train.amp=true --data-dir ../shared/data \\
        --out benchmarks/results/stacked_mnist/bn_stats/pacdcgan2-seed3.json
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys

import torch

from gankit.atomic import atomic_write
from gankit.metrics.classifier import load_classifier
from gankit.train.checkpoint import CHECKPOINT_NAME
from gankit.train.ema import recompute_batchnorm_stats
from gankit.train.trainer import Trainer

sys.path.insert(0, os.path.dirname(__file__))
from records import Refused, log_invocation, run_main  # noqa: E402
from stacked_mnist import method_config, score, scoring_latents  # noqa: E402

STANDING_SEED = 123  # latents of the re-estimation (not the scoring latents)


def with_standing_stats(g: torch.nn.Module, recipe, batches: int) -> torch.nn.Module:
    g = copy.deepcopy(g)
    gen = torch.Generator().manual_seed(STANDING_SEED)
    recompute_batchnorm_stats([g], lambda: g(recipe.latent(64, gen)), batches)
    return g


@torch.no_grad()
def samples(g: torch.nn.Module, z: list[torch.Tensor], batch_stats: bool) -> torch.Tensor:
    g = copy.deepcopy(g).train(batch_stats)  # a copy: train mode would move the running statistics
    chunks = torch.cat(z).split(64) if batch_stats else z
    return torch.cat([g(zi).float() for zi in chunks])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="a run directory kept by stacked_mnist.py --keep")
    ap.add_argument("--method", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="the run's --set overrides")
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--batches", type=int, default=32, help="batches of 64 latents that re-estimate the statistics")
    ap.add_argument("--out", required=True, help="JSON file for the scores")
    args = ap.parse_args(argv)
    if not os.path.isfile(os.path.join(args.run, CHECKPOINT_NAME)):
        raise Refused(f"--run {args.run}: no {CHECKPOINT_NAME} there (keep a run with stacked_mnist.py --keep)")
    cfg = method_config(args.method, args.seed, 10**6, args.data_dir, [*args.set, "train.ema_bn_batches=0"], args.run)
    trainer = Trainer(cfg, args.run)
    trainer.load_checkpoint()
    log_invocation(os.path.dirname(args.out) or ".")
    z, clf = scoring_latents(trainer.recipe, args.seed), load_classifier("mnist")
    nets = {"ema": trainer.ema["G"].module, "raw": trainer.recipe.modules["G"]}
    result = {"run": args.run, "method": args.method, "seed": args.seed, "step": trainer.step, "overrides": args.set,
              "batches": args.batches, "scores": {}}
    for name, g in nets.items():
        variants = {"copied": samples(g, z, False),
                    "standing": samples(with_standing_stats(g, trainer.recipe, args.batches), z, False),
                    "batch64": samples(g, z, True)}
        for variant, x in variants.items():
            s = score(x, clf)
            result["scores"][f"{name} {variant}"] = {"kl": s["kl"], "channels_kl": sum(s["channel_kl"]),
                                                     "modes": s["modes"]}
            print(f"{name:>3} {variant:<8} KL {s['kl']:.4f}  channels' own {sum(s['channel_kl']):.4f}  "
                  f"modes {s['modes']}", flush=True)
    with atomic_write(args.out, "w") as fh:
        json.dump(result, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    run_main(main)
