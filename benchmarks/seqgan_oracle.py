"""SeqGAN's Table 1 on the synthetic oracle (Yu et al. 2017): NLL_oracle of samples from a random
(untrained) G, the MLE baseline and SeqGAN, with CPU time. Paper: 10.310 / 9.038 / 8.736; the
issue's target: SeqGAN below MLE by at least 0.25 nats on our oracle.

The oracle (``seqgan-oracle``, fixed by ``--oracle-seed``) stays the same for every run; each
seed is ``train.seed``. ``random`` is G of the ``oracle-seqgan`` preset at initialisation,
``mle`` trains ``oracle-mle``, ``seqgan`` trains ``oracle-seqgan`` (and also records NLL_oracle
at the end of its own MLE pre-training, the fairest MLE point to compare with). Every record
holds NLL_oracle of ``--n-eval`` samples (the paper: 10,000), the model's per-token NLL of the
held-out oracle sequences (test split), CPU seconds in all and per adversarial step.

Each run appends one JSON line to ``<out>/runs.jsonl``; ``--summarise`` writes the markdown
table (mean ± s.e. over seeds) to ``<out>/summary.md``.

usage: python benchmarks/seqgan_oracle.py --methods random,mle,seqgan --seeds 0,1,2   # the full table
       python benchmarks/seqgan_oracle.py --seeds 0 --set data.limit=256 --set train.batch_size=16 --steps 9 \\
           --seqgan-set recipe.pretrain_g_steps=5 --seqgan-set recipe.pretrain_d_steps=2 \\
           --seqgan-set recipe.rollouts=2 --n-eval 200 --out /tmp/so   # smoke
       python benchmarks/seqgan_oracle.py --summarise
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict

import torch

from gankit.data.oracle import OracleLSTM, nll_oracle, oracle_split
from gankit.presets import load_preset
from gankit.train.trainer import Trainer

sys.path.insert(0, os.path.dirname(__file__))
from records import Refused, append_record, log_invocation, mean_se, read_records, run_main, write_summary  # noqa: E402

METHODS = ("random", "mle", "seqgan")
PRESETS = {"random": "oracle-seqgan", "mle": "oracle-mle", "seqgan": "oracle-seqgan"}
EVAL_SEED = 1234  # the uniforms of the scored samples
BATCH = 1000


@torch.no_grad()
def evaluate(trainer: Trainer, oracle: OracleLSTM, held_out: torch.Tensor, n: int) -> dict:
    """NLL_oracle of ``n`` samples of G and G's per-token NLL of the held-out sequences."""
    recipe, nets = trainer.recipe, trainer.sampling_nets(use_ema=True)
    gen = torch.Generator().manual_seed(EVAL_SEED)
    samples = torch.cat([recipe.sample(nets, recipe.latent(min(BATCH, n - i), gen)).long()
                         for i in range(0, n, BATCH)])  # (n, T)
    G = nets["G"]
    G.eval()
    nll_test = -torch.cat([G.log_probs(part) for part in held_out.split(BATCH)]).double().mean()
    G.train()
    return {"nll_oracle": nll_oracle(oracle, samples), "nll_test": float(nll_test)}


def run(method: str, seed: int, steps: int | None, extra: list[str], oracle: OracleLSTM, held_out: torch.Tensor,
        n_eval: int) -> dict:
    overrides = [f"train.seed={seed}", "train.progress=false", "train.sample_every=0", "train.checkpoint_every=0",
                 *([f"train.steps={steps}"] if steps else []), *extra]
    cfg = load_preset(PRESETS[method], overrides)
    rec: dict = {"preset": PRESETS[method]}
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, tmp)
        adv_start = getattr(trainer.recipe, "adversarial_start", None)
        cpu0 = time.process_time()
        cpu_adv0 = None
        while method != "random" and trainer.step < cfg.train.steps:
            if trainer.step == adv_start and method == "seqgan":
                eval0 = time.process_time()
                rec.update({f"pretrained_{k}": v for k, v in evaluate(trainer, oracle, held_out, n_eval).items()})
                cpu_adv0 = time.process_time()
                cpu0 += cpu_adv0 - eval0  # CPU time counts training only
            trainer.train_step()
        cpu1 = time.process_time()
        rec.update(steps=trainer.step if method != "random" else 0, cpu_s=round(cpu1 - cpu0, 1))
        if cpu_adv0 is not None and trainer.step > adv_start:
            rec["cpu_s_per_adv_step"] = round((cpu1 - cpu_adv0) / (trainer.step - adv_start), 2)
        rec.update(evaluate(trainer, oracle, held_out, n_eval))
    return rec


def summarise(path: str) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in read_records(path):
        groups[METHODS.index(r["method"]), r["method"], r["steps"], r["n_eval"], " ".join(r["overrides"])].append(r)
    lines = ["| method | steps | samples | overrides | seeds | NLL_oracle ↓ | NLL_oracle after MLE pre-training "
             "| held-out NLL ↓ | CPU s | CPU s per adversarial step |", "|---|---|---|---|---|---|---|---|---|---|"]
    for (_, method, steps, n_eval, extra), rs in sorted(groups.items()):
        pre = [r["pretrained_nll_oracle"] for r in rs if "pretrained_nll_oracle" in r]
        adv = [r["cpu_s_per_adv_step"] for r in rs if "cpu_s_per_adv_step" in r]
        lines.append(f"| {method} | {steps} | {n_eval} | {extra or '-'} | {len(rs)} "
                     f"| {mean_se((r['nll_oracle'] for r in rs), '.4g')} | {mean_se(pre, '.4g') if pre else '-'} "
                     f"| {mean_se((r['nll_test'] for r in rs), '.4g')} | {mean_se((r['cpu_s'] for r in rs), '.0f')} "
                     f"| {mean_se(adv) if adv else '-'} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--steps", type=int, default=0, help="trainer steps (0: the preset's)")
    ap.add_argument("--n-eval", type=int, default=10_000, help="samples scored by the oracle")
    ap.add_argument("--oracle-seed", type=int, default=0, help="data.seed: which oracle")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra config override")
    ap.add_argument("--seqgan-set", action="append", default=[], metavar="KEY=VALUE",
                    help="override for the oracle-seqgan preset only (random, seqgan): recipe.rollouts=8")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "sequences", "seqgan_oracle"))
    ap.add_argument("--summarise", action="store_true", help="print the table of <out>/runs.jsonl and exit")
    args = ap.parse_args()
    if args.summarise:
        write_summary(args.out, summarise(os.path.join(args.out, "runs.jsonl")))
        return
    methods = args.methods.split(",")
    for m in methods:
        if m not in METHODS:
            raise Refused(f"--methods: unknown {m!r} (known: {', '.join(METHODS)})")
    if args.n_eval < 1:
        raise Refused(f"--n-eval must be >= 1, got {args.n_eval}")
    extra = [f"data.seed={args.oracle_seed}", *args.set]
    per_method = {m: extra + (args.seqgan_set if PRESETS[m] == "oracle-seqgan" else []) for m in methods}
    for m in methods:  # every config parses before anything is logged or trained
        cfg = load_preset(PRESETS[m], per_method[m])
        if cfg.data.name != "seqgan-oracle":
            raise Refused(f"--set data.name={cfg.data.name}: this benchmark scores samples with the seqgan-oracle")
    path = log_invocation(args.out, torch_threads=torch.get_num_threads())
    oracle = OracleLSTM(args.oracle_seed)
    held_out = oracle_split(args.oracle_seed, "test", cfg.data.seq_len or 20)
    for m in methods:
        for seed in [int(s) for s in args.seeds.split(",")]:
            rec = {"method": m, "seed": seed, "n_eval": args.n_eval, "overrides": per_method[m][1:],
                   **run(m, seed, args.steps or None, per_method[m], oracle, held_out, args.n_eval),
                   "torch_threads": torch.get_num_threads()}
            append_record(path, rec)


if __name__ == "__main__":
    run_main(main)
