"""The headline of each study, computed from its committed records under ``benchmarks/results/``:
the README's "Headline results" table and the table of the benchmarks index page.

One function per study reads its records (``<study>/runs.jsonl`` or its JSON report) and returns a
``Headline``; ``readme_table`` and ``index_table`` lay them out. Only the study titles, what each
measures and the published figures (citations, not measurements) are fixed text here. Averages are
mean ± standard error over seeds (``records.mean_se``). ``docs/gen_reference.py`` writes both
tables between their markers; ``python benchmarks/headlines.py`` prints them.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from gankit.presets import preset_tree

sys.path.insert(0, os.path.dirname(__file__))
from image_models import latest_per_run  # noqa: E402
from metrics_sanity import checks  # noqa: E402
from mode_collapse_2d import METHODS  # noqa: E402
from records import Refused, mean_se, read_records  # noqa: E402
from stacked_mnist import lazy_r1_runs  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


@dataclass(frozen=True)
class Headline:
    """One study's figures as the two tables show them."""

    scope: str  # what was run (README: after the study's link)
    result: str  # README: the result cell
    short: str = ""  # benchmarks index: the headline cell
    measures: str = ""  # benchmarks index: what the study measures


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _and(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def _seeds(*counts: int) -> str:
    """``10 seeds``; ``10 / 9 seeds`` when the groups differ."""
    return " / ".join(str(n) for n in dict.fromkeys(counts)) + " seeds"


def _records(results: Path, study: str) -> list[dict]:
    return read_records(str(results / study / "runs.jsonl"))


def _report(results: Path, name: str) -> dict:
    path = results / name
    if not path.is_file():
        raise Refused(f"{path}: no report (the study has not been run there)")
    return json.loads(path.read_text(encoding="utf-8"))


def _picked(records: list[dict], what: str, keep: Callable[[dict], bool]) -> list[dict]:
    runs = [r for r in records if keep(r)]
    if not runs:
        raise Refused(f"no record of {what}")
    return runs


# --------------------------------------------------------------------------- 2-D mixtures

TARGET_PRESETS = ("ring-sharp", "grid-sharp")


def target_2d(results: Path = RESULTS) -> Headline:
    """Mean modes, high-quality % and reverse KL (PacGAN's protocol) and CPU seconds over the seeds of
    each tuned 2-D preset at the step count it ships with now."""
    records = _records(results, "target_2d")
    per_data = []
    for preset in TARGET_PRESETS:
        steps = preset_tree(preset)["train"]["steps"]
        rs = _picked(records, f"{preset} at {steps} steps",
                     lambda r: r["preset"] == preset and not r["overrides"] and r["steps"] == steps)
        per_data.append((rs[0]["dataset"], len(rs), _mean([r["modes"] for r in rs]), rs[0]["of"],
                         100 * _mean([r["high_quality"] for r in rs]), _mean([r["reverse_kl"] for r in rs]),
                         _mean([r["cpu_s"] for r in rs])))
    (d1, n1, m1, of1, hq1, kl1, cpu1), (d2, n2, m2, of2, hq2, kl2, cpu2) = per_data
    return Headline(
        scope=" / ".join(f"`{p}`" for p in TARGET_PRESETS) + f", {_seeds(n1, n2)}",
        result=(f"{d1} {m1:.3g}/{of1} modes, {hq1:.1f} % high quality, reverse KL {kl1:.1g} ({cpu1:.0f} CPU-s); "
                f"{d2} {m2:.3g}/{of2}, {hq2:.1f} %, {kl2:.1g} ({cpu2:.0f} CPU-s)"),
        short=f"{d1} {m1:.3g}/{of1}, {hq1:.1f} % HQ; {d2} {m2:.3g}/{of2}, {hq2:.1f} % HQ ({_seeds(n1, n2)})",
        measures="modes, high-quality samples and reverse KL of the tuned 2-D presets",
    )


METHOD_NAMES = {
    "ns": "NS GAN", "lsgan": "LSGAN", "wgan": "WGAN", "wgan-gp": "WGAN-GP", "hinge-sn": "hinge + SN",
    "fisher": "Fisher GAN", "ebgan": "EBGAN", "began": "BEGAN", "magan": "MAGAN", "dragan": "DRAGAN",
    "feature-matching": "feature matching", "minibatch-disc": "minibatch discrimination", "pacgan2": "PacGAN2",
    "pacgan4": "PacGAN4", "unrolled": "Unrolled GAN", "mrgan": "MRGAN", "madgan": "MAD-GAN",
}


def _method_name(method: str) -> str:
    if method.startswith("fgan-"):
        return f"f-GAN {method[5:].upper()}"
    return METHOD_NAMES.get(method, method)


def mode_collapse_2d(results: Path = RESULTS) -> Headline:
    """The methods with a grid configuration that covered every mode on every one of its seeds (a
    configuration run on one seed only does not count)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in _records(results, "mode_collapse_2d"):
        if r["dataset"] == "grid":
            groups[(r["method"], r["steps"], " ".join(r.get("overrides", [])))].append(r)
    covering = {key[0]: len(rs) for key, rs in groups.items()
                if len({r["seed"] for r in rs}) > 1 and all(r["modes"] == r["of"] for r in rs)}
    of = next(iter(groups.values()))[0]["of"]
    order = list(METHODS)
    methods = sorted(covering, key=lambda m: (order.index(m) if m in order else len(order), m))
    if methods:
        short = (f"only {_and([_method_name(m) for m in methods])} cover all {of} grid modes on every seed "
                 f"({_seeds(*(covering[m] for m in methods))} each)")
    else:
        short = f"no method covers all {of} grid modes on every seed"
    return Headline(scope="", result="", short=short,
                    measures="every method at one budget, then each method's best configuration")


# --------------------------------------------------------------------------- image studies

STACKED_MODES = 1000  # 10 × 10 × 10 digit triples


def stacked_mnist(results: Path = RESULTS) -> Headline:
    """Modes and KL to the uniform mode distribution of the ``stacked-mnist-pacgan`` configuration
    (PacDCGAN2, G 96 / D 128, bf16, lazy R1) over its seeds."""
    runs = lazy_r1_runs(_records(results, "stacked_mnist"))
    if not runs:
        raise Refused("no record of the lazy-R1 PacDCGAN2 runs of Stacked MNIST")
    modes = [r["modes"] for r in runs]
    covered = f"{modes[0]:,}" if len(set(modes)) == 1 else mean_se(modes, ".4g")
    kl = mean_se([r["kl"] for r in runs], ".3g")
    budget = runs[0]["cpu_minutes_budget"]
    return Headline(
        scope=f"`stacked-mnist-pacgan`, {_seeds(len(runs))}, {budget:g} CPU-min",
        result=f"{covered} / {STACKED_MODES:,} modes, KL {kl}",
        short=f"KL {kl}, {covered} modes ({_seeds(len(runs))})",
        measures=f"modes and KL over {STACKED_MODES:,} digit triples in {budget:g} CPU-minutes",
    )


# (preset, preset file digest, overrides) of the runs each headline averages
K_PLUS_ONE = ("mnist-ssgan", "bad0aef4e569", ["model.mlp_d_activation=relu"])  # the authors' ReLU in D
TRIPLE_GAN = ("mnist-triplegan", "89d5eff598ac", [])
SEMI_LABELS, SEMI_BUDGET_S = 100, 3600.0


def _semi_runs(records: list[dict], spec: tuple[str, str, list[str]]) -> list[dict]:
    preset, digest, overrides = spec
    return _picked(records, f"{preset} ({digest}) with {SEMI_LABELS} labels",
                   lambda r: (r["preset"], r.get("preset_sha256"), r["overrides"]) == spec
                   and r["labels"] == SEMI_LABELS and r["cpu_budget_s"] == SEMI_BUDGET_S)


def semi_supervised(results: Path = RESULTS) -> Headline:
    """Test error (%) of the K+1 GAN (Salimans et al., 2016) and Triple-GAN (Li et al., 2017) with 100
    labels when their CPU budget runs out, mean ± s.e. over seeds."""
    records = _records(results, "semi_supervised")
    k, t = _semi_runs(records, K_PLUS_ONE), _semi_runs(records, TRIPLE_GAN)
    k_err, t_err = (mean_se([100 * r["test_error"] for r in rs]) for rs in (k, t))
    minutes = SEMI_BUDGET_S / 60
    return Headline(
        scope=f"{SEMI_LABELS} labels, {_seeds(len(k), len(t))}, {minutes:g} CPU-min",
        result=f"K+1 GAN test error {k_err} %; Triple-GAN {t_err} %",
        short=f"K+1 GAN {k_err} % ({_seeds(len(k))})",
        measures=f"test error with {SEMI_LABELS} labels in {minutes:g} CPU-minutes",
    )


INFOGAN = ("infogan-chen", "mnist", 6000)  # model, data, steps


def infogan(results: Path = RESULTS) -> Headline:
    """InfoGAN (Chen et al., 2016) on MNIST: how often the categorical code is the digit (after the best
    one-to-one matching), mean ± s.e. over seeds, and Inception FID of the runs that have one."""
    model, data, steps = INFOGAN
    rs = _picked(latest_per_run(_records(results, "image_models")), f"{model} on {data} at {steps} steps",
                 lambda r: (r["model"], r["dataset"], r["steps"]) == INFOGAN)
    code = mean_se([100 * r["code_acc"] for r in rs])
    scored = [r for r in rs if r.get("fid_inception") is not None]
    fid = mean_se([r["fid_inception"] for r in scored]) if scored else "not measured"
    if scored and len(scored) < len(rs):
        fid += f" (seed {scored[0]['seed']})" if len(scored) == 1 else f" ({_seeds(len(scored))})"
    return Headline(
        scope=f"{_seeds(len(rs))}, {steps:,} steps",
        result=f"categorical code = digit for {code} % of samples; Inception FID {fid}",
        short=f"InfoGAN code accuracy {code} %, Inception FID {fid}",
        measures="FID, precision/recall and each model's own figure on MNIST and Fashion-MNIST",
    )


CONDITIONAL_DATA, CONDITIONAL_STEPS = "fashion-mnist", 15000
# model -> (name, decimals): the fake-class ACGAN sits near 100 %, where the second decimal tells
CONDITIONAL = {"cgan": ("CGAN", 1), "acgan-fakeclass": ("ACGAN with a fake class", 2)}


def conditional(results: Path = RESULTS) -> Headline:
    """Mean class accuracy (samples of class c that the domain classifier calls c) of the conditional
    models on Fashion-MNIST."""
    records = latest_per_run(_records(results, "image_models"))
    cells, counts = [], []
    for model, (name, decimals) in CONDITIONAL.items():
        rs = _picked(records, f"{model} on {CONDITIONAL_DATA} at {CONDITIONAL_STEPS} steps",
                     lambda r: (r["model"], r["dataset"], r["steps"]) == (model, CONDITIONAL_DATA, CONDITIONAL_STEPS))
        cells.append(f"{name} {100 * _mean([r['class_acc'] for r in rs]):.{decimals}f} %")
        counts.append(len(rs))
    return Headline(scope=f"{_seeds(*counts)}, {CONDITIONAL_STEPS:,} steps",
                    result="Fashion-MNIST class accuracy: " + ", ".join(cells))


# --------------------------------------------------------------------------- image translation

PIX2PIX_STEPS = 1500
PIX2PIX_OBJECTIVES = {"l1": "L1", "cgan": "cGAN", "l1+cgan": "L1 + cGAN"}


def _pix2pix_runs(records: list[dict], task: str, variant: str) -> list[dict]:
    key = (task, variant, PIX2PIX_STEPS, [])
    return _picked(records, f"pix2pix {variant} on {task} at {PIX2PIX_STEPS} steps",
                   lambda r: (r["task"], r["variant"], r["steps"], r["overrides"]) == key)


def pix2pix(results: Path = RESULTS) -> Headline:
    """pix2pix's objective ablation at our scale, mean ± s.e. over seeds (``translation/pix2pix``): the
    Fashion-MNIST classifier's accuracy on edges -> Fashion-MNIST outputs (the FCN-score analogue) for
    L1, cGAN and L1 + cGAN, and the classifier-feature FID of inpainting with L1 alone vs L1 + cGAN."""
    records = _records(results, "translation/pix2pix")
    fashion = {v: _pix2pix_runs(records, "fashion", v) for v in PIX2PIX_OBJECTIVES}
    inpaint = {v: _pix2pix_runs(records, "inpaint", v) for v in ("l1", "l1+cgan")}
    acc = {v: mean_se([100 * r["class_acc"] for r in rs], ".3g") for v, rs in fashion.items()}
    fid = {v: mean_se([r["fid_classifier"] for r in rs], ".3g") for v, rs in inpaint.items()}
    counts = [len(rs) for rs in [*fashion.values(), *inpaint.values()]]
    return Headline(
        scope=f"{_seeds(*counts)}, {PIX2PIX_STEPS:,} steps",
        result="edges → Fashion-MNIST classifier score " + ", ".join(f"{name} {acc[v]} %" for v, name in
                                                                     PIX2PIX_OBJECTIVES.items())
               + f"; inpainting FID {fid['l1+cgan']} (L1 + cGAN) vs {fid['l1']} (L1)",
        short=f"classifier score L1 {acc['l1']} % → L1 + cGAN {acc['l1+cgan']} %",
        measures="pix2pix's ablations, PAN vs pix2pix, adversarial vs pixel loss on inpainting",
    )


# --------------------------------------------------------------------------- JSON reports

OVERHEAD_WORKLOADS = {"ring-mlp-b256": "ring", "dcgan28-b64": "DCGAN"}


def overhead(results: Path = RESULTS) -> Headline:
    """Median over rounds of gankit's step rate over a plain PyTorch loop's (``overhead.json``)."""
    by_name = {w["workload"]: w for w in _report(results, "overhead.json")["results"]}
    missing = [n for n in OVERHEAD_WORKLOADS if n not in by_name]
    if missing:
        raise Refused(f"overhead.json has no workload {', '.join(missing)}")
    medians = [by_name[n]["ratios"]["gankit"]["median"] for n in OVERHEAD_WORKLOADS]
    rounds = " / ".join(str(r) for r in dict.fromkeys(by_name[n]["rounds"] for n in OVERHEAD_WORKLOADS))
    return Headline(
        scope=f"{rounds} rounds",
        result="gankit's trainer " + " / ".join(f"{m:.2f}× ({label})" for m, label in
                                                zip(medians, OVERHEAD_WORKLOADS.values()))
        + " the steps/s of a plain loop",
        short=" / ".join(f"{m:.2f}×" for m in medians) + " the plain loop's step rate",
        measures="gankit's trainer against a plain PyTorch loop",
    )


PRESET_HEADLINE = "ring-gan"


def presets(results: Path = RESULTS) -> Headline:
    """The ring preset's mode coverage and CPU seconds, end to end (``presets/results.json``)."""
    runs = _report(results, "presets/results.json")["runs"]
    run = _picked(runs, f"preset {PRESET_HEADLINE}", lambda r: r["preset"] == PRESET_HEADLINE)[0]
    cov = run["mode_coverage"]
    return Headline(scope="", result="",
                    short=f"ring {cov['modes']}/{cov['of']} modes in {run['cpu_s']:.0f} CPU-s",
                    measures=f"{NUMBER_WORDS[len(runs)] if len(runs) < len(NUMBER_WORDS) else len(runs)} "
                             "default presets")


def metrics_sanity(results: Path = RESULTS) -> Headline:
    """Which metrics fail an ordering check of ``metrics_sanity.py`` in which feature space
    (``metrics_sanity.json``)."""
    suites = _report(results, "metrics_sanity.json")["suites"]
    failed = list(dict.fromkeys((statement.split(":")[0], suite) for suite, s in suites.items()
                                for statement, ok in checks(s["rows"]) if not ok))
    short = "every metric orders the conditions"
    if failed:
        word = NUMBER_WORDS[len(failed)] if len(failed) < len(NUMBER_WORDS) else str(len(failed))
        short += (f", {word} exception{'s' if len(failed) > 1 else ''}: "
                  + _and([f"{metric} in the {suite}'s features" for metric, suite in failed]))
    return Headline(scope="", result="", short=short,
                    measures="metrics under controlled corruptions of real digits")


def inception_speed(results: Path = RESULTS) -> Headline:
    """Median over rounds of the Inception extractor's image rate over a naive loop's (``inception_speed.json``)."""
    report = _report(results, "inception_speed.json")
    return Headline(scope="", result="", short=f"median {report['ratio_median']:.2f}×",
                    measures="the FID feature extractor against a naive loop")


# --------------------------------------------------------------------------- tables

TRANSLATION_PAGE = "../models/translation"  # from docs/benchmarks/

# (title, page under docs/benchmarks/, headline, published figure)
README_ROWS = [
    ("2-D mixtures", "target-2d", target_2d,
     "PacGAN2 ring 7.9 / 95.6 % / 0.07; PacGAN4 grid 24.8 / 93.6 % / 0.04"),
    ("Stacked MNIST", "stacked-mnist", stacked_mnist, "PacDCGAN2: KL 0.06"),
    ("Semi-supervised MNIST", "semi-supervised", semi_supervised, "Salimans et al. 0.93 %; Li et al. 0.91 %"),
    ("InfoGAN on MNIST", "image-models", infogan, "≈ 95 %"),
    ("Conditional models", "image-models", conditional, "—"),
    ("pix2pix", TRANSLATION_PAGE, pix2pix, "Cityscapes FCN-score (per-pixel acc.): L1 0.42, cGAN 0.57, L1 + cGAN 0.66"),
    ("Trainer overhead", "overhead", overhead, "—"),
]

# (title, page under docs/benchmarks/, headline)
INDEX_ROWS = [
    ("2-D mode-coverage targets", "target-2d", target_2d),
    ("Mode collapse on 2-D mixtures", "mode-collapse-2d", mode_collapse_2d),
    ("Stacked MNIST", "stacked-mnist", stacked_mnist),
    ("Image models", "image-models", infogan),
    ("Semi-supervised MNIST", "semi-supervised", semi_supervised),
    ("Image translation", TRANSLATION_PAGE, pix2pix),
    ("Presets end to end", "presets", presets),
    ("Trainer overhead", "overhead", overhead),
    ("Metric sanity", "metrics-sanity", metrics_sanity),
    ("Inception speed", "inception-speed", inception_speed),
]


def readme_table(results: Path = RESULTS) -> str:
    """The README's table: study (linked, with what was run) | result | published figure."""
    lines = ["| study | result | published figure |", "|---|---|---|"]
    for title, page, headline, published in README_ROWS:
        h = headline(results)
        link = os.path.normpath(os.path.join("docs", "benchmarks", page))
        lines.append(f"| [{title}]({link}.md), {h.scope} | {h.result} | {published} |")
    return "\n".join(lines)


def index_table(results: Path = RESULTS) -> str:
    """The benchmarks index's table: study (linked) | what it measures | headline."""
    lines = ["| study | what it measures | headline |", "|---|---|---|"]
    for title, page, headline in INDEX_ROWS:
        h = headline(results)
        lines.append(f"| [{title}]({page}.md) | {h.measures} | {h.short} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(readme_table(), index_table(), sep="\n\n")
