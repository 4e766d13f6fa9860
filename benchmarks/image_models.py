"""Image models on MNIST / Fashion-MNIST at a fixed step budget: FID, precision/recall and each
model's own measure (issue 4's objective table and issue 5's latent-model table).

For every (model, dataset, seed): train the model's MNIST preset (``data.name`` switched for
Fashion-MNIST) for ``--steps`` generator steps with ``gankit.runs.train`` (process CPU seconds
recorded), keep the run under ``--runs-dir``, then with the EMA generator and ``--n`` samples
(test split as the reference, gankit's domain classifier for that dataset). A model whose preset
pre-trains part of itself first (Triple-GAN's C, ``recipe.pretrain_steps``) counts those steps in
``--steps`` too, so ``--steps`` must exceed them (refused otherwise: its G would be untrained).

* ``fid_clf``, ``precision``/``recall`` (k=3): in the domain classifier's feature space;
* ``fid_inception`` (with ``--inception``; slow on CPU: ~10 images/s): pytorch-fid pipeline;
* ``class_acc``: conditional models (CGAN, ACGAN, Triple-GAN): samples of class c classified as c;
* ``code_acc``: InfoGAN / ss-InfoGAN: categorical code vs predicted class after the best
  one-to-one matching (``gankit.metrics.statistics.matched_accuracy``);
* ``test_error``: semi-supervised models (SSGAN, Triple-GAN, ss-InfoGAN): their classifier on the test split;
* ``pair_mismatch``: CoGAN: how far ``--n`` pairs ``(G_A(z), G_B(z))`` are from corresponding
  (``gankit.recipes.coupled.pair_mismatch``: 0 = B is exactly A's transform, ≈ 1 = no correspondence).

Each run appends one JSON line to ``<out>/runs.jsonl`` and copies its final sample grid to
``<out>/grids/<dataset>-<model>-seed<S>-steps<N>.png``; ``--summarise`` prints the table (mean ± s.e.
over seeds; a rerun of the same model, dataset, steps and seed replaces the earlier record).
``--reuse`` scores the runs kept under ``--runs-dir`` again instead of training them (e.g. to add
``--inception`` later); the record keeps the training time of the run's earlier record.
``--adopt RUN_DIR`` scores a run trained by another benchmark instead (e.g. ``semi_supervised.py
--keep``: the SSGAN / Triple-GAN generators after their CPU budget) as the one model of ``--models``;
its steps are the run's, its record has no training time and names the run (``adopted``).

usage: python benchmarks/image_models.py --models dcgan,cgan,acgan,infogan --datasets mnist,fashion-mnist \
           --seeds 0 [--steps 3000] [--n 10000] [--inception] [--reuse] [--data-dir ../shared/data] \
           [--out benchmarks/results/image_models] [--runs-dir /tmp/gankit-image-models]
       python benchmarks/image_models.py --models ssgan --adopt KEPT_RUN_DIR [--inception]
       python benchmarks/image_models.py --summarise [--out ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections import defaultdict

import torch

from gankit.metrics.classifier.load import load_classifier, predict
from gankit.metrics.statistics import matched_accuracy
from gankit.presets import load_preset
from gankit.runs import load_run, train
from gankit.runs.samples import evaluate
from gankit.viz.grid import save_image_grid

sys.path.insert(0, os.path.dirname(__file__))
from records import Refused, append_record, log_invocation, mean_se, read_records, run_main, write_summary  # noqa: E402

# model -> (MNIST preset, extra overrides, what else to measure)
MODELS: dict[str, tuple[str, list[str], tuple[str, ...]]] = {
    "dcgan": ("mnist-dcgan", [], ()),
    "wgan-gp": ("mnist-wgan-gp", [], ()),
    "lsgan": ("mnist-dcgan", ["recipe.loss=lsgan"], ()),
    "hinge-sn": ("mnist-dcgan", ["recipe.loss=hinge", "model.d_spectral_norm=true"], ()),
    "cgan": ("mnist-cgan", [], ("class_acc",)),
    "cgan-concat": ("mnist-cgan", ["model.d_concat_labels=true"], ("class_acc",)),
    # K-way class head trained on real data only (the presets until the fake class)
    "acgan": ("mnist-acgan", ["recipe.fake_class=false", "recipe.cls_fake_weight=0"], ("class_acc",)),
    # Odena et al.: the K-way head also learns the fakes' intended labels
    "acgan-paper": ("mnist-acgan", ["recipe.fake_class=false", "recipe.cls_fake_weight=1"], ("class_acc",)),
    # the preset: a (K+1)-th fake class in D's classifier (AM-GAN, Zhou et al. 2018) that fakes are taught
    "acgan-fakeclass": ("mnist-acgan", [], ("class_acc",)),
    # InfoGAN on DCGAN-28 of width 32 with a linear Q (the preset's networks until Chen et al.'s replaced them)
    "infogan": ("mnist-infogan", ["model.g_width=32", "model.d_width=32", "model.g_fc=0", "model.d_fc=0",
                                  "model.q_hidden=0"], ("code_acc",)),
    "infogan-chen": ("mnist-infogan", [], ("code_acc",)),  # the preset: Chen et al.'s networks (App. C)
    "ss-infogan": ("mnist-ss-infogan", [], ("code_acc", "test_error")),
    "vae": ("mnist-vae", [], ()),
    "vaegan": ("mnist-vaegan", [], ()),
    "ssgan": ("mnist-ssgan", [], ("test_error",)),
    "triplegan": ("mnist-triplegan", [], ("class_acc", "test_error")),
    "cogan": ("mnist-cogan", [], ("pair_mismatch",)),  # domain A scored; B = Sobel edge maps
    "cogan-unshared": ("mnist-cogan", ["recipe.shared_layers=0"], ("pair_mismatch",)),  # two independent GANs
}


def code_accuracy(run, classifier: str, n: int, seed: int) -> float:
    """Matched accuracy of InfoGAN's categorical code against the classifier's labels."""
    z, codes = run.recipe.draw(n, torch.Generator().manual_seed(seed))
    x = torch.cat([run.recipe.sample(run.nets(), z[i:i + 1000].to(run.device)) for i in range(0, n, 1000)])
    labels, _ = predict(load_classifier(classifier), x)
    return matched_accuracy(codes.cat.numpy(), labels).accuracy


def train_one(run_dir: str, model: str, dataset: str, seed: int, args: argparse.Namespace) -> dict:
    """Train one run into ``run_dir`` (replacing an earlier one); the training part of its record."""
    preset, extra, _ = MODELS[model]
    if os.path.exists(run_dir):
        shutil.rmtree(run_dir)
    cfg = load_preset(preset, [*extra, f"data.name={dataset}", f"data.path={args.data_dir}", f"train.seed={seed}",
                               f"train.steps={args.steps}", f"train.out_dir={args.runs_dir}",
                               f"train.run_name={os.path.basename(run_dir)}", "train.progress=false",
                               f"train.sample_every={args.steps}", f"train.checkpoint_every={args.steps}"])
    wall0, cpu0 = time.perf_counter(), time.process_time()
    if not train(cfg).completed:  # SIGINT/SIGTERM stopped the trainer early: never score a partial run
        raise SystemExit("interrupted: this run is not recorded")
    return {"model": model, "dataset": dataset, "seed": seed, "steps": args.steps,
            "cpu_s": round(time.process_time() - cpu0, 1), "wall_s": round(time.perf_counter() - wall0, 1)}


def reused_record(run_dir: str, model: str, dataset: str, seed: int, args: argparse.Namespace) -> tuple[dict, object]:
    """``--reuse``: the run an earlier invocation kept in ``run_dir``, loaded to be scored again (runs
    are deterministic, so retraining would give the same weights), and the training part of its
    record: that invocation's."""
    key = (dataset, args.steps, model, seed)
    path = os.path.join(args.out, "runs.jsonl")
    earlier = [r for r in (read_records(path) if os.path.exists(path) else [])
               if (r["dataset"], r["steps"], r["model"], r["seed"]) == key]
    if not earlier or not os.path.exists(os.path.join(run_dir, "checkpoint.safetensors")):
        raise Refused(f"--reuse: no kept run and record for {key} (train it first, without --reuse)")
    if (run := load_run(run_dir)).step != args.steps:
        raise Refused(f"--reuse: {run_dir} is not a finished {args.steps}-step run")
    rec = {k: earlier[-1][k] for k in ("model", "dataset", "seed", "steps", "cpu_s", "wall_s")}
    return rec | {"reused": True}, run


def adopted_record(run, run_dir: str, model: str) -> dict:
    """``--adopt``: a run trained elsewhere (e.g. ``semi_supervised.py --keep``, stopped by a CPU
    budget), loaded from ``run_dir``: its dataset, seed and steps from its checkpoint; no training
    time (the other benchmark's record has it)."""
    preset, extra, _ = MODELS[model]

    def kind(recipe) -> tuple:  # recipe and objective: a WGAN-GP run is no DCGAN, though both are "gan"
        return recipe.name, getattr(recipe, "loss", None)

    if kind(run.cfg.recipe) != (wanted := kind(load_preset(preset, extra).recipe)):
        raise Refused(f"--adopt: {run_dir} trained (recipe, loss) {kind(run.cfg.recipe)}; model {model} is {wanted}")
    return {"model": model, "dataset": run.cfg.data.name, "seed": run.cfg.train.seed, "steps": run.step,
            "cpu_s": None, "wall_s": None, "adopted": os.path.basename(os.path.normpath(run_dir))}


def score(run, run_dir: str, model: str, dataset: str, seed: int, args: argparse.Namespace) -> dict:
    """The measures of ``run`` (loaded from ``run_dir``); its sample grid copied (or drawn) into ``<out>/grids``."""
    measures = MODELS[model][2]
    common = dict(real=dataset, split="test", n=args.n, seed=seed, data_dir=args.data_dir, classifier=dataset)
    res = evaluate(fake=run, metrics=["fid", "pr"], features="classifier", **common)
    rec = {"n": args.n, "fid_clf": res["fid"], "precision": res["pr"]["precision"], "recall": res["pr"]["recall"]}
    if args.inception:
        rec["fid_inception"] = evaluate(fake=run, metrics=["fid"], features="inception", **common)["fid"]
    if "class_acc" in measures:
        rec["class_acc"] = evaluate(fake=run, metrics=["class_acc"], **common)["class_acc"]["accuracy"]
    if "code_acc" in measures:
        rec["code_acc"] = code_accuracy(run, dataset, args.n, seed)
    if "test_error" in measures:
        from gankit.semi_supervised import classifier_error

        rec["test_error"] = classifier_error(run, split="test")
    if "pair_mismatch" in measures:
        from gankit.recipes.coupled import pair_correspondence

        rec["pair_mismatch"] = pair_correspondence(run, args.n, seed)
    grids = os.path.join(args.out, "grids")
    os.makedirs(grids, exist_ok=True)
    grid = os.path.join(grids, f"{dataset}-{model}-seed{seed}-steps{run.step}.png")
    final = os.path.join(run_dir, "samples_final.png")
    if os.path.exists(final):
        shutil.copy(final, grid)
    else:  # a kept checkpoint without the trainer's final grid: 64 EMA samples
        save_image_grid(run.sample(64, seed), grid, nrow=8)
    return rec


def kept_run_dir(model: str, dataset: str, seed: int, args: argparse.Namespace) -> str:
    return os.path.join(args.runs_dir, f"{dataset}-{model}-seed{seed}-steps{args.steps}")


COLUMNS = ["fid_clf", "fid_inception", "precision", "recall", "class_acc", "code_acc", "test_error", "pair_mismatch",
           "cpu_s"]


def latest_per_run(records: list[dict]) -> list[dict]:
    """One record per (dataset, steps, model, seed): a rerun (e.g. with ``--inception``)
    replaces the earlier record of the same run in the table; the raw file keeps both."""
    runs = {(r["dataset"], r["steps"], r["model"], r["seed"]): r for r in records}
    return list(runs.values())


def summarise(path: str) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    records = latest_per_run(read_records(path))
    for r in records:
        groups[(r["dataset"], r["steps"], r["model"])].append(r)
    columns = [c for c in COLUMNS if any(r.get(c) is not None for r in records)]  # measured at least once
    lines = ["| data | steps | model | seeds | " + " | ".join(columns) + " |", "|---" * (4 + len(columns)) + "|"]
    order = list(MODELS)
    rows = sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], order.index(kv[0][2])))
    for (dataset, steps, model), rs in rows:
        cells = []
        for col in columns:
            v = [r[col] for r in rs if r.get(col) is not None]
            cells.append(mean_se(v, ".4g") if v else "–")
        lines.append(f"| {dataset} | {steps} | {model} | {len(rs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="dcgan,cgan,acgan,infogan")
    ap.add_argument("--datasets", default="mnist,fashion-mnist")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--inception", action="store_true", help="also Inception FID (slow on CPU)")
    ap.add_argument("--reuse", action="store_true",
                    help="score the runs an earlier invocation kept under --runs-dir instead of training them again")
    ap.add_argument("--adopt", action="append", default=[], metavar="RUN_DIR",
                    help="score this run trained elsewhere as the one model of --models (repeatable)")
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "image_models"))
    ap.add_argument("--runs-dir", default="/tmp/gankit-image-models")
    ap.add_argument("--summarise", action="store_true")
    args = ap.parse_args()
    path = os.path.join(args.out, "runs.jsonl")
    if args.summarise:
        write_summary(args.out, summarise(path))
        return
    models = args.models.split(",")
    if unknown := [m for m in models if m not in MODELS]:
        ap.error(f"unknown models {unknown}; known: {', '.join(MODELS)}")
    if args.adopt and len(models) != 1:
        ap.error("--adopt scores runs of one model: give exactly one in --models")
    for model in [] if args.adopt else models:  # a run that ends inside its pre-training trained no generator
        preset, extra, _ = MODELS[model]
        if args.steps <= (pretrain := getattr(load_preset(preset, extra).recipe, "pretrain_steps", 0)):
            ap.error(f"{model} pre-trains for its first {pretrain} steps (G idle): --steps must exceed that")
    plan = [] if args.adopt else [(model, dataset, int(seed)) for dataset in args.datasets.split(",")
                                  for model in models for seed in args.seeds.split(",")]
    ready = []  # every adopted or reused run loaded and checked before the invocation is logged
    for run_dir in args.adopt:
        run = load_run(run_dir)
        ready.append((run_dir, run, adopted_record(run, run_dir, models[0]), models[0]))
    for model, dataset, seed in plan if args.reuse else []:
        run_dir = kept_run_dir(model, dataset, seed, args)
        rec, run = reused_record(run_dir, model, dataset, seed, args)
        ready.append((run_dir, run, rec, model))
    log_invocation(args.out)
    for run_dir, run, rec, model in ready:
        append_record(path, rec | score(run, run_dir, model, rec["dataset"], rec["seed"], args))
    for model, dataset, seed in [] if args.reuse else plan:
        run_dir = kept_run_dir(model, dataset, seed, args)
        rec = train_one(run_dir, model, dataset, seed, args)
        append_record(path, rec | score(load_run(run_dir), run_dir, model, dataset, seed, args))


if __name__ == "__main__":
    run_main(main)
