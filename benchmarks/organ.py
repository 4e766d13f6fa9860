"""ORGAN's trade-off (Guimaraes et al. 2017, Tables 3-4 for music): on Bach chorale melodies with an
objective, the objective should rise as the discriminator's weight lambda falls (1 = SeqGAN,
0 = RL on the objective alone), while the likelihood and BLEU against held-out melodies show
what it costs.

Every run trains the ``chorales-organ`` preset (``--preset``) with ``recipe.d_weight = lambda``;
the MLE and D pre-training are the same for every lambda (same seed), so the row ``mle`` is G
at the end of its MLE pre-training, scored once. Each record holds, for ``--n-eval`` samples
drawn with a fixed seed: the mean of the run's objective and of the other melody objective
(without ORGAN's repetition penalty), the fraction of distinct samples, ``nll_mle`` (the
per-token NLL of the samples under that pre-trained MLE model: how plausible they stay),
``nll_test`` (G's per-token NLL of the held-out test melodies), BLEU-2..4 against the test
melodies and self-BLEU-3 (``gankit.metrics.statistics.bleu``), and CPU seconds.

Each run appends one JSON line to ``<out>/runs.jsonl``; ``--summarise`` writes the markdown
table to ``<out>/summary.md``.

usage: python benchmarks/organ.py --lambdas 1,0.5,0 --seeds 0
       python benchmarks/organ.py --lambdas 1,0 --set data.limit=128 --set train.steps=14 \\
           --set recipe.pretrain_g_steps=8 --set recipe.pretrain_d_steps=2 --set recipe.rollouts=2 \\
           --n-eval 40 --out /tmp/organ-smoke   # smoke
       python benchmarks/organ.py --summarise
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from collections import defaultdict

import torch

from gankit.config import DataConfig
from gankit.data import build_dataset
from gankit.metrics.statistics.bleu import bleu, self_bleu
from gankit.objectives import OBJECTIVES
from gankit.presets import load_preset
from gankit.train.trainer import Trainer

sys.path.insert(0, os.path.dirname(__file__))
from records import Refused, append_record, log_invocation, mean_se, read_records, run_main, write_summary  # noqa: E402

EVAL_SEED = 1234  # the uniforms of the scored samples
SELF_BLEU_SAMPLES = 200  # self-BLEU compares every pair: quadratic in the samples
REPORTED = ("melodic_steps", "in_key")


@torch.no_grad()
def per_token_nll(G: torch.nn.Module, tokens: torch.Tensor) -> float:
    """``-mean_{n,t} log G(y_t | y_<t)`` of token rows ``(N, T)`` (G in eval mode)."""
    training = G.training
    G.eval()
    try:
        return float(-G.log_probs(tokens).double().mean())
    finally:
        G.train(training)


@torch.no_grad()
def evaluate(trainer: Trainer, mle_G: torch.nn.Module, test: torch.Tensor, n: int) -> dict:
    recipe, nets = trainer.recipe, trainer.sampling_nets(use_ema=True)
    samples = recipe.sample(nets, recipe.latent(n, torch.Generator().manual_seed(EVAL_SEED))).long()  # (n, T)
    vocab = tuple(recipe.data.meta["vocab"])
    rec = {f"objective_{name}": float(OBJECTIVES.get(name)(samples, vocab).mean()) for name in REPORTED}
    b, s = bleu(samples, test), self_bleu(samples[:SELF_BLEU_SAMPLES])
    rec.update(distinct=len({tuple(r) for r in samples.tolist()}) / n, nll_mle=per_token_nll(mle_G, samples),
               nll_test=per_token_nll(nets["G"], test), bleu2=b.bleu2, bleu3=b.bleu3, bleu4=b.bleu4,
               self_bleu3=s.bleu3)
    return rec


def run(lam: float, seed: int, preset: str, extra: list[str], test: torch.Tensor, n_eval: int,
        with_mle: bool) -> list[dict]:
    overrides = [f"train.seed={seed}", "train.progress=false", "train.sample_every=0", "train.checkpoint_every=0",
                 f"recipe.d_weight={lam}", *extra]
    cfg = load_preset(preset, overrides)
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, tmp)
        start = trainer.recipe.adversarial_start
        cpu0 = time.process_time()
        while trainer.step < min(start, cfg.train.steps):
            trainer.train_step()
        cpu_pre = time.process_time() - cpu0
        mle_G = copy.deepcopy(trainer.recipe.modules["G"])
        if with_mle:
            records.append({"method": "mle", "steps": cfg.recipe.pretrain_g_steps, "cpu_s": round(cpu_pre, 1),
                            **evaluate(trainer, mle_G, test, n_eval)})
        cpu1 = time.process_time()
        while trainer.step < cfg.train.steps:
            trainer.train_step()
        cpu_adv = time.process_time() - cpu1
        records.append({"method": "organ", "d_weight": lam, "objective": cfg.recipe.objective, "steps": trainer.step,
                        "adversarial_steps": trainer.step - start, "cpu_s": round(cpu_pre + cpu_adv, 1),
                        "cpu_s_per_adv_step": round(cpu_adv / max(trainer.step - start, 1), 2),
                        **evaluate(trainer, mle_G, test, n_eval)})
    return records


def summarise(path: str) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in read_records(path):
        lam = r.get("d_weight", "-")
        groups[r["method"] != "mle", -float(lam) if lam != "-" else 0.0, r["method"], lam, r["steps"],
               r.get("objective", "-"), " ".join(r["overrides"])].append(r)
    lines = ["| model | lambda (D weight) | steps | objective | seeds | melodic_steps ↑ | in_key | distinct "
             "| NLL under MLE ↓ | held-out NLL ↓ | BLEU-2 | BLEU-3 | BLEU-4 | self-BLEU-3 ↓ | CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for (_, _, method, lam, steps, objective, extra), rs in sorted(groups.items()):
        cells = [mean_se((r[k] for r in rs), ".3f") for k in ("objective_melodic_steps", "objective_in_key",
                                                               "distinct", "nll_mle", "nll_test", "bleu2", "bleu3",
                                                               "bleu4", "self_bleu3")]
        lines.append(f"| {'MLE (pre-training)' if method == 'mle' else 'ORGAN'} | {lam} | {steps} | {objective} "
                     f"| {len(rs)} | {' | '.join(cells)} | {mean_se((r['cpu_s'] for r in rs), '.0f')} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lambdas", default="1,0.5,0", help="recipe.d_weight values")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--preset", default="chorales-organ")
    ap.add_argument("--n-eval", type=int, default=500, help="samples scored")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra config override")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "organ"))
    ap.add_argument("--summarise", action="store_true", help="print the table of <out>/runs.jsonl and exit")
    args = ap.parse_args()
    if args.summarise:
        write_summary(args.out, summarise(os.path.join(args.out, "runs.jsonl")))
        return
    try:
        lambdas = [float(x) for x in args.lambdas.split(",")]
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        raise Refused(f"--lambdas and --seeds take comma-separated numbers, got {args.lambdas!r}, {args.seeds!r}")
    if args.n_eval < 2:
        raise Refused(f"--n-eval must be >= 2, got {args.n_eval}")
    cfgs = [load_preset(args.preset, [f"recipe.d_weight={lam}", *args.set]) for lam in lambdas]  # all parse first
    if cfgs[0].recipe.name != "organ" or cfgs[0].data.name != "chorales":
        raise Refused(f"preset {args.preset}: this benchmark trains recipe organ on dataset chorales")
    test_cfg = DataConfig(name="chorales", split="test", seq_len=cfgs[0].data.seq_len)
    test = build_dataset(test_cfg).field("tokens").long()  # (M, T)
    path = log_invocation(args.out, torch_threads=torch.get_num_threads())
    for seed in seeds:
        for i, lam in enumerate(lambdas):
            for rec in run(lam, seed, args.preset, args.set, test, args.n_eval, with_mle=i == 0):
                append_record(path, {"seed": seed, "n_eval": args.n_eval, "overrides": args.set, **rec,
                                     "torch_threads": torch.get_num_threads()})


if __name__ == "__main__":
    run_main(main)
