"""RNN-GAN (C-RNN-GAN, preset ``sines-rnngan``) against its likelihood baseline (an autoregressive
Gaussian LSTM, preset ``sines-mle``) on TimeGAN's noisy sines (T = 24, D = 5), scored as in
TimeGAN (Yoon et al. 2019): the discriminative score (|accuracy - 0.5| of a post-hoc GRU, lower
is better), the predictive score (MAE on real sequences of a next-step GRU trained on generated
ones, lower is better; TimeGAN's predictor reads the other features only, which on these sines, whose
features are independent, leaves it at the naive MAE 2/pi; the second column lets it read the
predicted feature's own past too), and MMD^2 (Gaussian kernel, median bandwidth) between flattened
sequences.

Every model is scored on ``--n-eval`` samples against as many held-out real sequences (the
``sines`` generator with ``data.seed=--eval-data-seed``, never trained on). The row ``data``
scores independent real sequences (``data.seed`` = the training data's) in place of samples:
the floor each score can reach at this sample size. CPU seconds count training only.

usage: python benchmarks/rnngan_sines.py --methods data,mle,rnngan --seeds 0
       python benchmarks/rnngan_sines.py --methods mle --steps 3 --n-eval 64 --set data.n_samples=64 \\
           --metric-iterations 5 --out /tmp/rs   # smoke
       python benchmarks/rnngan_sines.py --summarise
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict

import torch

from gankit.data.sequences import sample_sines
from gankit.metrics.statistics import discriminative_score, mmd2, predictive_score
from gankit.metrics.statistics.timeseries import DISCRIMINATIVE_ITERATIONS, PREDICTIVE_ITERATIONS
from gankit.presets import load_preset
from gankit.train.trainer import Trainer

sys.path.insert(0, os.path.dirname(__file__))
from records import Refused, append_record, log_invocation, mean_se, read_records, run_main, write_summary  # noqa: E402

METHODS = ("data", "mle", "rnngan")
PRESETS = {"data": "sines-rnngan", "mle": "sines-mle", "rnngan": "sines-rnngan"}
EVAL_SEED = 1234  # latents of the scored samples
BATCH = 500


def scores(real: torch.Tensor, fake: torch.Tensor, iterations: tuple[int, int], seed: int) -> dict:
    """TimeGAN's two scores and MMD^2 of ``fake`` against ``real``, each ``(N, T, D)``."""
    disc = discriminative_score(real, fake, iterations=iterations[0], seed=seed)
    pred = predictive_score(real, fake, iterations=iterations[1], seed=seed)
    own = predictive_score(real, fake, iterations=iterations[1], seed=seed, own_past=True)
    mmd = mmd2(real.flatten(1).double(), fake.flatten(1).double())
    return {"discriminative": disc.score, "disc_accuracy": disc.accuracy, "predictive": pred,
            "predictive_own_past": own, "mmd2": mmd}


def run(method: str, seed: int, steps: int | None, extra: list[str], held_out: torch.Tensor, n_eval: int) -> dict:
    overrides = [f"train.seed={seed}", "train.progress=false", "train.sample_every=0", "train.checkpoint_every=0",
                 *([f"train.steps={steps}"] if steps else []), *extra]
    cfg = load_preset(PRESETS[method], overrides)
    if method == "data":  # independent real sequences of the training distribution
        x, _, _ = sample_sines(n_eval, held_out.shape[1], held_out.shape[2],
                               torch.Generator().manual_seed(cfg.data.seed + 10_000 + seed))
        return {"preset": "-", "steps": 0, "cpu_s": 0.0, "samples": x}
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, tmp)
        cpu0 = time.process_time()
        while trainer.step < cfg.train.steps:
            trainer.train_step()
        cpu = time.process_time() - cpu0
        recipe, nets = trainer.recipe, trainer.sampling_nets(use_ema=True)
        gen = torch.Generator().manual_seed(EVAL_SEED)
        samples = torch.cat([recipe.sample(nets, recipe.latent(min(BATCH, n_eval - i), gen))
                             for i in range(0, n_eval, BATCH)])  # (n, T, D)
    return {"preset": PRESETS[method], "steps": trainer.step, "cpu_s": round(cpu, 1), "samples": samples}


def summarise(path: str) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in read_records(path):
        groups[METHODS.index(r["method"]), r["method"], r["steps"], r["n_eval"], " ".join(r["overrides"])].append(r)
    lines = ["| method | steps | samples | overrides | seeds | discriminative score ↓ | predictive score (MAE) ↓ "
             "| predictive, own past read ↓ | MMD² ↓ | CPU s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for (_, method, steps, n_eval, extra), rs in sorted(groups.items()):
        lines.append(f"| {method} | {steps} | {n_eval} | {extra or '-'} | {len(rs)} "
                     f"| {mean_se((r['discriminative'] for r in rs), '.3f')} "
                     f"| {mean_se((r['predictive'] for r in rs), '.4f')} "
                     f"| {mean_se((r['predictive_own_past'] for r in rs), '.4f')} "
                     f"| {mean_se((r['mmd2'] for r in rs), '.4f')} "
                     f"| {mean_se((r['cpu_s'] for r in rs), '.0f')} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--steps", type=int, default=0, help="trainer steps (0: the preset's)")
    ap.add_argument("--n-eval", type=int, default=1000, help="generated and held-out real sequences scored")
    ap.add_argument("--eval-data-seed", type=int, default=1, help="data.seed of the held-out real sequences")
    ap.add_argument("--metric-iterations", type=int, default=0,
                    help=f"post-hoc GRU iterations of both scores (0: TimeGAN's {DISCRIMINATIVE_ITERATIONS} and "
                         f"{PREDICTIVE_ITERATIONS})")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra config override")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "rnngan_sines"))
    ap.add_argument("--summarise", action="store_true", help="print the table of <out>/runs.jsonl and exit")
    args = ap.parse_args()
    if args.summarise:
        write_summary(args.out, summarise(os.path.join(args.out, "runs.jsonl")))
        return
    methods = args.methods.split(",")
    for m in methods:
        if m not in METHODS:
            raise Refused(f"--methods: unknown {m!r} (known: {', '.join(METHODS)})")
    if args.n_eval < 2:
        raise Refused(f"--n-eval must be >= 2, got {args.n_eval}")
    if args.metric_iterations < 0:
        raise Refused(f"--metric-iterations must be >= 0, got {args.metric_iterations}")
    for m in methods:  # every config parses before anything is logged or trained
        cfg = load_preset(PRESETS[m], args.set)
        if cfg.data.name != "sines":
            raise Refused(f"--set data.name={cfg.data.name}: this benchmark scores against held-out sines")
        if cfg.data.seed == args.eval_data_seed:
            raise Refused(f"data.seed={cfg.data.seed} is the held-out data's seed (--eval-data-seed)")
    iterations = ((args.metric_iterations,) * 2 if args.metric_iterations
                  else (DISCRIMINATIVE_ITERATIONS, PREDICTIVE_ITERATIONS))
    path = log_invocation(args.out, torch_threads=torch.get_num_threads())
    steps, features = cfg.data.seq_len or 24, cfg.data.seq_features or 5
    held_out, _, _ = sample_sines(args.n_eval, steps, features, torch.Generator().manual_seed(args.eval_data_seed))
    for m in methods:
        for seed in [int(s) for s in args.seeds.split(",")]:
            rec = run(m, seed, args.steps or None, args.set, held_out, args.n_eval)
            samples = rec.pop("samples")
            eval0 = time.process_time()
            rec.update(scores(held_out, samples, iterations, seed))
            rec.update(method=m, seed=seed, n_eval=args.n_eval, overrides=args.set,
                       metric_iterations=list(iterations), eval_cpu_s=round(time.process_time() - eval0, 1),
                       torch_threads=torch.get_num_threads())
            append_record(path, rec)


if __name__ == "__main__":
    run_main(main)
