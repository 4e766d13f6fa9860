"""Stacked MNIST (Metz et al. 2017; VEEGAN; PacGAN Table 3): modes covered and KL to uniform.

Data: preset ``stacked-mnist-dcgan`` (60,000 triples of MNIST training digits as RGB channels,
1,000 modes). Every method trains the same DCGAN (z 64, width 32, batch 64, Adam 2e-4 β1 0.5,
EMA 0.999; Unrolled's D has layer norm instead of batch norm; ``selfcond`` conditions G and a
projection D on 100 k-means clusters of D's features, the clustering's CPU time counted) for at
most ``--cpu-minutes`` of process CPU time (and at most ``--max-steps`` generator steps, the length
of any lr schedule);
then 26,000 samples of the EMA generator are scored (its BatchNorm statistics re-estimated for the
averaged weights, ``train.ema_bn_batches``; records before 2026-12-07 sampled with a copy of the live
generator's statistics): each channel classified by gankit's MNIST
classifier, modes = distinct digit triples, KL(histogram || uniform over 1,000), and
the sum over channels of each channel's KL(digit histogram || uniform over 10): the part of the KL
that uneven digit frequencies explain (the rest is the channels' total correlation). Records keep
each channel's digit counts (``channel_counts``: which digits a channel over- or under-draws) and
two diagnostics: ``channel_soft_counts`` (each channel's summed classifier probabilities: soft counts
flatter than the hard counts mean ambiguous digits that the argmax resolves one way) and the same scores
for the raw, non-EMA generator on the same latents (``raw``); ``cpu_s_at_1000_steps`` lists the CPU seconds
at every 1,000th step (a drifting step cost shows host load or denormals).

Method ``data`` trains nothing: it scores 26,000 triples of the training set itself, the floor
that finite samples and classifier errors put under every method's KL.

``--keep DIR`` keeps each run's checkpoint in ``DIR/<method>-seed<seed>`` (for looking at samples).

``--drs P`` also scores 26,000 samples drawn by discriminator rejection sampling (``gankit.rejection``,
Azadi et al. 2019; gamma at percentile P, D Platt-calibrated on 8,000 test-split triples, a packed D's logit per
sample averaged over ``--drs-partners`` random packings); the record's ``drs`` holds their scores, the acceptance
and the CPU seconds DRS took (outside the training budget); the table shows it as its own row, CPU s = both.

``--eval-every N`` also scores the EMA generator every N steps (same latents, outside the CPU budget):
the record's ``curve`` lists ``[step, cpu_s, modes, kl, channels' own kl]``.

``--set KEY=VALUE`` (repeatable) overrides the preset for every trained method (e.g. other
networks); the overrides are recorded, and the table groups by them and by the step cap.

Each finished run appends one JSON line to ``<out>/runs.jsonl``; ``--summarise`` prints the table.

usage: python benchmarks/stacked_mnist.py --methods dcgan,pacdcgan2,unrolled,madgan --seeds 0 \
           [--cpu-minutes 60] [--data-dir ../shared/data] [--out benchmarks/results/stacked_mnist]
       python benchmarks/stacked_mnist.py --summarise
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict

import numpy as np
import torch

from gankit.config import apply_overrides
from gankit.data import build_dataset
from gankit.experiment import config_from_dict
from gankit.metrics import stacked_mnist_modes
from gankit.metrics.classifier import load_classifier, predict
from gankit.presets import preset_tree
from gankit.rejection import gan_rejection_sampler
from gankit.train.trainer import Trainer

sys.path.insert(0, os.path.dirname(__file__))
from records import append_record, log_invocation, mean_se, read_records, run_main, write_summary  # noqa: E402

PRESET = "stacked-mnist-dcgan"
METHODS: dict[str, tuple[dict, list[str]]] = {  # method -> (recipe table, extra overrides)
    "dcgan": ({"name": "gan", "loss": "ns"}, []),
    "pacdcgan2": ({"name": "gan", "loss": "ns", "pack": 2}, []),
    "pacdcgan4": ({"name": "gan", "loss": "ns", "pack": 4}, []),
    # torch.func unrolls parameters, not BatchNorm's running buffers: D with layer norm instead
    "unrolled": ({"name": "unrolled", "loss": "ns", "unroll_steps": 5}, ["model.d_norm=layer"]),
    "madgan": ({"name": "madgan", "generators": 2}, []),
    "selfcond": ({"name": "selfcond", "loss": "ns"}, []),
}
SAMPLES = 26_000
CALIBRATION = 8_000  # held-out triples (MNIST test split) that calibrate D for --drs
MAX_STEPS = 1_000_000  # default step cap: the CPU budget ends the run


def data_triples(seed: int, data_dir: str) -> torch.Tensor:
    """The training set's first 26,000 triples (data seed ``seed``), (N, 3, 28, 28)."""
    tree = apply_overrides(preset_tree(PRESET), [f"data.path={data_dir}", f"data.seed={seed}"])
    return build_dataset(config_from_dict(tree).data).x[:SAMPLES]


def calibration_triples(seed: int, data_dir: str) -> torch.Tensor:
    """8,000 triples of MNIST test digits (data seed ``seed``): held out from training, they calibrate D for DRS."""
    tree = apply_overrides(preset_tree(PRESET), [f"data.path={data_dir}", f"data.seed={seed}", "data.split=test",
                                                 f"data.n_samples={CALIBRATION}"])
    return build_dataset(config_from_dict(tree).data).x


def rejection_sample(trainer: Trainer, seed: int, data_dir: str, percentile: float, partners: int) -> dict:
    """26,000 DRS samples of the EMA generator (D calibrated on held-out triples): their scores,
    the sampler's acceptance, and the CPU seconds it all took."""
    cpu0 = time.process_time()
    gen = torch.Generator().manual_seed(20_000 + seed)
    amp = trainer.amp_dtype if trainer.cfg.train.amp else None
    sampler = gan_rejection_sampler(trainer.recipe, trainer.sampling_nets(use_ema=True),
                                    calibration_triples(seed, data_dir), percentile, partners, gen, amp_dtype=amp)
    x, info = sampler.sample(SAMPLES, gen)
    cpu = time.process_time() - cpu0
    return {**score(x, load_classifier("mnist")), **info, "percentile": percentile, "partners": partners,
            "cpu_s": round(cpu, 1)}


def scoring_latents(recipe, seed: int) -> list[torch.Tensor]:
    """The latents every scored run of seed ``seed`` is sampled at (26 chunks of 1,000)."""
    gen = torch.Generator().manual_seed(10_000 + seed)
    return [recipe.latent(1000, gen) for _ in range(SAMPLES // 1000)]


def score_data(seed: int, data_dir: str) -> dict:
    """The training set's own 26,000 first triples (data seed ``seed``): the KL floor."""
    return {"method": "data", "seed": seed, "steps": 0, "cpu_s": 0.0, "wall_s": 0.0, "cpu_minutes_budget": 0.0,
            **score(data_triples(seed, data_dir), load_classifier("mnist")), "torch_threads": torch.get_num_threads()}


def score(x: torch.Tensor, clf) -> dict:
    """Modes, KL and per-channel counts of ``x`` (N, 3, 28, 28), each channel classified once by
    ``clf`` (gankit's MNIST classifier); ``channel_soft_counts`` sums its probabilities instead of its labels."""
    labels, probs = zip(*(predict(clf, x[:, c : c + 1]) for c in range(x.shape[1])))
    res = stacked_mnist_modes(np.stack(labels, axis=1))
    return {"modes": res.modes, "kl": res.kl, "channel_kl": list(res.channel_kl),
            "channel_counts": [list(c) for c in res.channel_counts],
            "channel_soft_counts": [np.round(p.sum(axis=0), 1).tolist() for p in probs]}


def method_config(method: str, seed: int, max_steps: int, data_dir: str, extra_set: list[str], run_dir: str):
    """The configuration ``method`` trains with (``ConfigError`` for a bad ``--set``)."""
    recipe, extra = METHODS[method]
    tree = preset_tree(PRESET)
    tree["recipe"] = dict(recipe)
    return config_from_dict(apply_overrides(tree, [
        *extra, *extra_set, f"train.steps={max_steps}", f"train.seed={seed}", f"data.path={data_dir}",
        f"train.out_dir={os.path.dirname(run_dir)}", "train.progress=false"]))


def sample_scoring_set(trainer: Trainer, z: list[torch.Tensor], use_ema: bool = True) -> torch.Tensor:
    return torch.cat([trainer.generate(zi, use_ema=use_ema) for zi in z])  # (26,000, 3, 28, 28)


def run_one(method: str, seed: int, cpu_minutes: float, max_steps: int, data_dir: str, extra_set: list[str],
            keep: str | None = None, eval_every: int = 0, drs: float | None = None, drs_partners: int = 4) -> dict:
    if method == "data":
        return score_data(seed, data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = os.path.join(keep, f"{method}-seed{seed}") if keep else os.path.join(tmp, "run")
        cfg = method_config(method, seed, max_steps, data_dir, extra_set, run_dir)
        trainer = Trainer(cfg, run_dir)
        budget = 60.0 * cpu_minutes
        z, clf = scoring_latents(trainer.recipe, seed), load_classifier("mnist")
        wall0, cpu0, eval_wall, eval_cpu = time.perf_counter(), time.process_time(), 0.0, 0.0
        trace = []  # CPU seconds at every 1,000th step: shows whether the step cost drifted (host load)
        curve = []  # [step, cpu_s, modes, kl, channels' own kl] every eval_every steps
        while trainer.step < max_steps and time.process_time() - cpu0 - eval_cpu < budget:
            trainer.train_step()
            if trainer.step % 1000 == 0:
                trace.append(round(time.process_time() - cpu0 - eval_cpu, 1))
            if eval_every and trainer.step % eval_every == 0:
                w, t = time.perf_counter(), time.process_time()
                s = score(sample_scoring_set(trainer, z), clf)
                curve.append([trainer.step, round(t - cpu0 - eval_cpu, 1), s["modes"], round(s["kl"], 4),
                              round(sum(s["channel_kl"]), 4)])
                eval_wall, eval_cpu = eval_wall + time.perf_counter() - w, eval_cpu + time.process_time() - t
        cpu, wall = time.process_time() - cpu0 - eval_cpu, time.perf_counter() - wall0 - eval_wall
        if keep:
            trainer.save_checkpoint()
        fake, raw = sample_scoring_set(trainer, z), sample_scoring_set(trainer, z, use_ema=False)
        rejected = rejection_sample(trainer, seed, data_dir, drs, drs_partners) if drs is not None else None
    return {"method": method, "seed": seed, "steps": trainer.step, "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
            "cpu_minutes_budget": cpu_minutes, **score(fake, clf),
            "raw": score(raw, clf), "max_steps": max_steps,
            "overrides": extra_set, "torch_threads": torch.get_num_threads(), "cpu_s_at_1000_steps": trace} | (
                {"curve": curve} if eval_every else {}) | ({"drs": rejected} if rejected else {})


def summarise(path: str) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in read_records(path):
        cap = r.get("max_steps", MAX_STEPS)  # a schedule (lr decay) spans train.steps = the cap
        extra = " ".join(r.get("overrides", [])) or "-"
        groups[(r["cpu_minutes_budget"], r["method"], extra, cap)].append(r)
        if "drs" in r:  # the same run sampled through DRS: its own row, CPU s = training + DRS
            d = r["drs"]
            method = f"{r['method']} + DRS (p{d['percentile']:g}, {d['partners']} partners)"
            groups[(r["cpu_minutes_budget"], method, extra, cap)].append(
                {**r, **{k: d[k] for k in ("modes", "kl", "channel_kl")}, "cpu_s": r["cpu_s"] + d["cpu_s"]})
    lines = ["| CPU-min budget | method | overrides | step cap | runs (seeds) | steps | modes / 1000 | KL to uniform "
             "| of which channels' own KL | CPU s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for (budget, method, extra, cap), rs in sorted(groups.items()):
        cells = [mean_se([r[key] for r in rs], fmt) for key, fmt in (("steps", ".0f"), ("modes", ".4g"), ("kl", ".3g"))]
        marginal = [sum(r["channel_kl"]) for r in rs if "channel_kl" in r]  # records before it have none
        cells.append(mean_se(marginal, ".3g") if len(marginal) == len(rs) else "–")
        cells.append(mean_se([r["cpu_s"] for r in rs], ".0f"))
        cap_cell = "–" if cap == MAX_STEPS else cap
        seeds = ",".join(str(s) for s in sorted({r["seed"] for r in rs}))  # a rerun of a seed is a second run
        lines.append(f"| {budget} | {method} | {extra} | {cap_cell} | {len(rs)} ({seeds}) | {' | '.join(cells)} |")
    return "\n".join(lines)


LAZY_R1 = ["model.g_width=96", "model.d_width=128", "train.amp=true", "recipe.r1_gamma=1.0", "recipe.r1_every=4"]


def lazy_r1_runs(records: list[dict]) -> list[dict]:
    """The 60-CPU-minute PacDCGAN2 + lazy R1 runs (the ``stacked-mnist-pacgan`` configuration), by seed."""
    runs = [r for r in records if r["method"] == "pacdcgan2" and r["cpu_minutes_budget"] == 60
            and r.get("overrides") == LAZY_R1]
    return sorted(runs, key=lambda r: r["seed"])


def lazy_r1_seeds(path: str) -> str:
    """One row per 60-CPU-minute PacDCGAN2 + lazy R1 run (the ``stacked-mnist-pacgan`` configuration)."""
    lines = ["| seed | steps | KL (EMA G) | channels' own KL | raw G's KL |", "|---|---|---|---|---|"]
    for r in lazy_r1_runs(read_records(path)):
        own = sum(r["channel_kl"])
        lines.append(f"| {r['seed']} | {r['steps']:,} | {r['kl']:.3f} | {own:.3f} | {r['raw']['kl']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default="dcgan,pacdcgan2,unrolled,madgan")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--cpu-minutes", type=float, default=60.0)
    ap.add_argument("--max-steps", type=int, default=MAX_STEPS)
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "stacked_mnist"))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                    help="config override for every trained method (repeatable), e.g. model.g_width=64")
    ap.add_argument("--eval-every", type=int, default=0, metavar="N",
                    help="also score the EMA generator every N steps, outside the CPU budget (0 = off)")
    ap.add_argument("--keep", metavar="DIR", help="keep each run's checkpoint in DIR/<method>-seed<seed>")
    ap.add_argument("--drs", type=float, metavar="PERCENTILE",
                    help="also score 26,000 samples drawn by discriminator rejection sampling, "
                         "gamma at this percentile")
    ap.add_argument("--drs-partners", type=int, default=4, metavar="K",
                    help="random packings that average a packed D's logit per sample (default 4)")
    ap.add_argument("--summarise", action="store_true")
    args = ap.parse_args()
    path = os.path.join(args.out, "runs.jsonl")
    if args.summarise:
        write_summary(args.out, summarise(path))
        return
    if args.eval_every < 0:
        ap.error(f"--eval-every must be >= 0, got {args.eval_every}")
    if args.drs is not None and not 0 <= args.drs <= 100 or args.drs_partners < 1:
        ap.error("--drs needs a percentile in [0, 100] and --drs-partners >= 1")
    methods = args.methods.split(",")
    if unknown := [m for m in methods if m not in METHODS and m != "data"]:
        ap.error(f"unknown methods {unknown}; known: data, {', '.join(METHODS)}")
    for method in set(methods) - {"data"}:  # a bad --set is refused before anything is logged
        method_config(method, 0, args.max_steps, args.data_dir, args.overrides, os.path.join(args.out, "run"))
    log_invocation(args.out)
    for seed in (int(s) for s in args.seeds.split(",")):
        for method in methods:
            rec = run_one(method, seed, args.cpu_minutes, args.max_steps, args.data_dir, args.overrides, args.keep,
                          args.eval_every, args.drs, args.drs_partners)
            append_record(path, rec)


if __name__ == "__main__":
    run_main(main)
