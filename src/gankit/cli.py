"""`gankit` command line: parse -> typed config -> call a library function."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable, NoReturn, Sequence

from gankit.errors import ConfigError, GankitError

DEFAULT_N_SAMPLES = 64  # `sample --n`
DEFAULT_TRANSLATION_PAIRS = 8  # gankit sample on a translation run: columns of input | output | target rows
DEFAULT_GRID_SEEDS = 8  # `sample --class-grid --seeds`
DEFAULT_PATHS = 4  # `interpolate --rows`, `traverse --rows`

EXAMPLES = """\
examples:
  gankit train                                   # default preset: DCGAN on sklearn's 8x8 digits
  gankit train --preset ring-gan train.steps=2000 recipe.loss=hinge
  gankit train --preset mnist-dcgan --data-dir ~/data train.device=cuda
  gankit train --preset mnist-wgan-gp --dry-run  # print the resolved config and exit
  gankit resume runs/ring-gan-20261123-101500 train.steps=4000
  gankit train --preset mnist-dcgan --data-dir ~/data --nproc 2   # 2 processes, same global batch
  torchrun --nproc_per_node=2 -m gankit train --preset mnist-dcgan      # the same, torchrun's own flags
  gankit sample runs/RUN --n 64 --seed 1 --out samples.png   # EMA weights by default
  gankit sample runs/RUN --n 10000 --out samples.npz          # raw arrays for metrics
  gankit interpolate runs/RUN --steps 10 --rows 6 --slerp --out interp.png
  gankit sample runs/CGAN-RUN --class-grid --seeds 8 --out classes.png   # rows = classes, same z per column
  gankit traverse runs/INFOGAN-RUN --code 1 --range=-2,2,9 --rows 5 --out code1.png
  gankit reconstruct runs/MRGAN-RUN --n 16 --split test --out recon.png    # real row above G(E(x)) row
  gankit interpolate runs/MRGAN-RUN --between-real 3,17 --steps 8 --out ab.png
  gankit test-error runs/SSGAN-RUN --data-dir ~/data   # its classifier on the whole test split
  gankit classifier train --data mnist --data-dir ~/data --seed 0
  gankit eval runs/RUN --metrics fid,kid,pr,nn1 --n 10000   # real = the run's test split
  gankit eval runs/RUN --metrics fid,is --features classifier --real mnist --data-dir ~/data
  gankit eval runs/ring-gan-RUN --metrics mode_coverage,mmd --n 2500
  gankit eval --real imgs/real --fake imgs/fake --metrics fid,kid --out metrics.json
  gankit eval --real mnist --fake samples.npz --metrics fid --metric-opt fid.allow_singular=true
  gankit translate runs/PIX2PIX-RUN --input fashion-edges --n 64 --out translated/   # + rows.png
  gankit eval runs/PIX2PIX-RUN --metrics psnr,ssim,l1,class_acc --n 1000   # paired test inputs
  gankit report runs/RUN                          # RUN/report.html: grids, curves, metrics, config
  gankit compare runs/RUN1 runs/RUN2 --out compare.html   # config diff, metrics, shared curves
  gankit presets
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2 (argparse prints usage too)
        self.exit(2, f"gankit: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gankit",
        description="Build, train, evaluate and visualise GANs.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    p = add("train", "train a preset (default: digits-dcgan) with section.key=value overrides")
    p.add_argument("--preset", default=None, help="preset name or path to a TOML file (`gankit presets` lists them)")
    p.add_argument("--data-dir", default=None, help="directory with MNIST-format data (same as data.path=DIR)")
    p.add_argument("--out", default=None, help="parent directory of the run (same as train.out_dir=DIR)")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config as JSON and exit")
    p.add_argument("--nproc", type=int, default=None, metavar="N",
                   help="train on N processes of this machine (torchrun; train.batch_size stays the global batch)")
    p.add_argument("overrides", nargs="*", metavar="section.key=value")

    p = add("resume", "continue a run from its checkpoint, exactly")
    p.add_argument("run_dir")
    p.add_argument("overrides", nargs="*", metavar="train.key=value", help="e.g. train.steps=4000")
    p.add_argument("--nproc", type=int, default=None, metavar="N",
                   help="continue on N processes of this machine (any N: checkpoints do not depend on it)")

    p = add("sample", "draw samples from a trained run or an exported model (PNG grid/scatter, .npz arrays, or "
            ".txt for token sequences)")
    p.add_argument("run_dir")
    p.add_argument("--n", type=int, default=None, help=f"number of samples (default {DEFAULT_N_SAMPLES}; a translation "
                   f"run: {DEFAULT_TRANSLATION_PAIRS} test pairs as input | output | target rows)")
    p.add_argument("--seed", type=int, default=0, help="latent seed")
    p.add_argument("--out", default=None, help="output .png or .npz; .txt for a token-sequence run, .csv rows with "
                   "the original column types for a table run (default RUN_DIR/sample-seedS.png, token sequences .txt)")
    p.add_argument("--condition", default=None, metavar="COLUMN=VALUE", help="table runs: every row has this "
                   "category (a categorical column of the run's data)")
    p.add_argument("--class", dest="class_id", type=int, default=None, help="class label for conditional models")
    p.add_argument("--pairs", action="store_true", help="cogan runs: corresponding domain A/B pairs side by side")
    p.add_argument("--class-grid", action="store_true", help="rows = classes (or an InfoGAN's categorical code), "
                   "columns = --seeds latents, the same z down each column")
    p.add_argument("--seeds", type=int, default=None, help=f"columns of --class-grid (default {DEFAULT_GRID_SEEDS})")
    p.add_argument("--no-ema", action="store_true", help="use the live generator instead of its EMA")
    p.add_argument("--drs", type=float, nargs="?", const=95.0, default=None, metavar="PERCENTILE",
                   help="discriminator rejection sampling (Azadi et al. 2019), gamma at this percentile of F "
                        "(default 95); D is calibrated on held-out data (--split, --data-dir)")
    p.add_argument("--drs-partners", type=int, default=4, help="random packings per sample for a PacGAN D (default 4)")
    p.add_argument("--split", default="test", help="data split that calibrates D for --drs, or of a translation run's "
                   "pairs (default test)")
    p.add_argument("--data-dir", default=None, help="directory with MNIST-format data (default: the run's data.path)")
    p.add_argument("--nrow", type=int, default=None, help="images per row of the grid")
    p.add_argument("--device", default="cpu")

    p = add("export", "share a run's generator: safetensors weights, model.json and a model card (--onnx: ONNX)")
    p.add_argument("run_dir")
    p.add_argument("--out", required=True, help="new directory for the exported model")
    p.add_argument("--onnx", action="store_true", help="also write generator.onnx, checked with onnxruntime")
    p.add_argument("--licence", default="MIT", help="licence recorded in model.json and the card (default MIT)")

    p = add("interpolate", "latent interpolation strips between random latent pairs (or two real examples)")
    p.add_argument("run_dir")
    p.add_argument("--steps", type=int, default=8, help="points along each path (>= 2)")
    p.add_argument("--rows", type=int, default=None, help=f"number of paths (default {DEFAULT_PATHS})")
    p.add_argument("--slerp", action="store_true", help="spherical instead of linear interpolation")
    p.add_argument("--seed", type=int, default=None, help="latent seed (default 0)")
    p.add_argument("--between-real", default=None, metavar="A,B", help="encoder path from E(x_A) to E(x_B), "
                   "indices into --split; columns: x_A, the decoded path, x_B (recipes with an encoder)")
    p.add_argument("--split", default=None, help="data split of --between-real (default test)")
    p.add_argument("--data-dir", default=None, help="directory with MNIST-format data (default: the run's data.path)")
    p.add_argument("--out", default=None, help="output .png (default RUN_DIR/interpolation.png)")
    p.add_argument("--no-ema", action="store_true")
    p.add_argument("--device", default="cpu")

    p = add("traverse", "InfoGAN latent traversal: one code varied along the columns, noise fixed per row")
    p.add_argument("run_dir")
    p.add_argument("--code", type=int, required=True, help="code index: the categorical code first, then continuous")
    values = p.add_mutually_exclusive_group()
    values.add_argument("--values", default=None, metavar="a,b,...", help="code values, e.g. --values=-1,0,1 "
                        "(class indices for the categorical code; default: all classes, or 7 points over [-1, 1])")
    values.add_argument("--range", dest="value_range", default=None, metavar="lo,hi,steps",
                        help="evenly spaced code values, e.g. --range=-2,2,9 (with '=' when lo < 0)")
    p.add_argument("--rows", type=int, default=DEFAULT_PATHS, help="rows, each with its own noise and other codes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="output .png or .npz (default RUN_DIR/traversal-codeI.png)")
    p.add_argument("--no-ema", action="store_true")
    p.add_argument("--device", default="cpu")

    p = add("reconstruct", "real examples above their reconstructions G(E(x)) (recipes with an encoder)")
    p.add_argument("run_dir")
    p.add_argument("--n", type=int, default=16, help="the first N examples of --split")
    p.add_argument("--split", default="test", help="data split (train | test | all)")
    p.add_argument("--data-dir", default=None, help="directory with MNIST-format data (default: the run's data.path)")
    p.add_argument("--out", default=None, help="output .png or .npz (default RUN_DIR/reconstruction-SPLIT.png)")
    p.add_argument("--no-ema", action="store_true")
    p.add_argument("--device", default="cpu")

    p = add("test-error", "error rate of the classifier a semi-supervised run trains (ssgan, triplegan, ss-infogan)")
    p.add_argument("run_dir")
    p.add_argument("--split", default="test", help="data split scored, all of it (train | test | all)")
    p.add_argument("--data-dir", default=None, help="directory with MNIST-format data (default: the run's data.path)")
    p.add_argument("--no-ema", action="store_true", help="the weights as last trained, not their average "
                   "(recipe.classifier_ema: ssgan's D, triplegan's C)")
    p.add_argument("--device", default="cpu")

    p = add("classifier", "domain classifiers used for in-domain metrics")
    csub = p.add_subparsers(dest="classifier_command", metavar="ACTION", parser_class=_Parser)
    csub.required = True
    from gankit.metrics.classifier import train as classifier_train

    classifier_train.add_arguments(csub.add_parser("train", help="train a domain classifier reproducibly"))

    p = add("eval", "evaluate a run (or --fake folder/.npz/dataset) against real data: FID, KID, IS, PR, ...")
    p.add_argument("run_dir", nargs="?", default=None, help="run directory (writes RUN_DIR/metrics.json)")
    p.add_argument("--fake", default=None, help="instead of RUN_DIR: an image folder, .npz file or dataset name")
    p.add_argument(
        "--real", default=None, help="dataset name, image folder or .npz (default: the run's dataset, test split)"
    )
    from gankit.metrics.registry import METRICS

    p.add_argument("--metrics", default="fid", help=f"comma-separated, from: {', '.join(METRICS.names())}")
    p.add_argument("--n", type=int, default=None, help="generated samples (default: 10000, protocol size for "
                   "mode_coverage/stacked_mnist; all of a folder/file)")
    p.add_argument("--n-real", type=int, default=None, help="real samples (default: min(n, available))")
    p.add_argument("--features", default=None, help="inception | classifier | identity (default: inception for "
                   "images, identity for vectors)")
    p.add_argument("--classifier", default=None, help="domain classifier: mnist | fashion-mnist | digits")
    p.add_argument("--split", default=None, help="split of a dataset used as real data (default: test)")
    p.add_argument("--data-dir", default=None, help="directory with MNIST-format data")
    p.add_argument("--seed", type=int, default=0, help="latent seed and subset seed")
    p.add_argument("--resize", default="pytorch-fid", choices=["pytorch-fid", "clean"], help="Inception input pipeline")
    p.add_argument("--batch-size", type=int, default=None, help="images per feature-network call")
    p.add_argument("--inception-weights", default=None, help="Inception weights file (or pytorch-fid / fid-helper)")
    p.add_argument("--metric-opt", action="append", default=[], metavar="METRIC.KEY=VALUE",
                   help="statistic option, e.g. kid.subset_size=100 (repeatable)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the real-feature cache")
    p.add_argument("--out", default=None, help="also write the results to this JSON file (merged like metrics.json)")
    p.add_argument("--target", default=None, help="table runs: categorical column for ML efficacy (classifiers "
                   "trained on synthetic rows, tested on the real table)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--nproc", type=int, default=None, metavar="N",
                   help="generate and extract features on N processes of this machine (torchrun)")

    p = add("translate", "apply a trained image-to-image run (pix2pix, pan, cyclegan) to a folder or dataset")
    p.add_argument("run_dir")
    p.add_argument("--input", required=True, metavar="FOLDER|DATASET", help="image folder (read as is: the run's "
                   "size and channels) or registered dataset (its input field a, --split)")
    p.add_argument("--out", required=True, metavar="FOLDER", help="one PNG per input; a paired dataset also gets "
                   "rows.png (input | output | target)")
    p.add_argument("--direction", default="ab", help="ab, or ba for a two-way run (cyclegan)")
    p.add_argument("--n", type=int, default=None, help="only the first N inputs")
    p.add_argument("--split", default="test", help="split of a dataset input (default test)")
    p.add_argument("--data-dir", default=None, help="directory with MNIST-format data (default: the run's data.path)")
    p.add_argument("--no-ema", action="store_true")
    p.add_argument("--device", default="cpu")

    p = add("report", "write a self-contained HTML page about a run: sample grids over time, curves, metrics, config")
    p.add_argument("run_dir")
    p.add_argument("--out", default=None, help="output .html (default RUN_DIR/report.html)")
    p.add_argument("--no-interpolation", action="store_true", help="skip the interpolation strip (it loads the "
                   "checkpoint)")

    p = add("compare", "write one HTML page comparing runs: config differences, metrics, curves on shared axes")
    p.add_argument("run_dirs", nargs="+", metavar="run_dir")
    p.add_argument("--out", required=True, help="output .html")

    add("presets", "list the presets with a one-line description")
    add("datasets", "list the registered datasets")
    return parser


def _cmd_train(args: argparse.Namespace) -> int:
    from gankit.config import to_dict
    from gankit.metrics.report import one_line_warnings
    from gankit.presets import DEFAULT_PRESET, load_preset
    from gankit.runs import train

    overrides = list(args.overrides)
    if args.data_dir:
        overrides.append(f"data.path={args.data_dir}")
    if args.out:
        overrides.append(f"train.out_dir={args.out}")
    cfg = load_preset(args.preset or DEFAULT_PRESET, overrides)
    if args.dry_run:
        print(json.dumps(to_dict(cfg), indent=2))
        return 0
    if args.nproc is not None:
        return _on_processes(args, cfg)
    with one_line_warnings():
        result = train(cfg)
    _report_run(result)
    return 0 if result.completed else 130


def _on_processes(args: argparse.Namespace, cfg: object) -> int:
    """``--nproc N``: check the config here, then the same command on N processes (N = 1: here)."""
    from gankit.runs.launch import check_nproc, run_on_processes

    check_nproc(args.nproc, cfg)
    if args.nproc == 1:
        return COMMANDS[args.command](argparse.Namespace(**{**vars(args), "nproc": None}))
    return run_on_processes(args.nproc, args.argv)


def _report_run(result: object) -> None:
    """The run's directory, printed once (by rank 0 of several processes)."""
    from gankit.train.distributed import world_from_env

    if world_from_env().writes:
        print(f"run directory: {result.run_dir} ({result.steps} steps{'' if result.completed else ', stopped early'})")


def _cmd_resume(args: argparse.Namespace) -> int:
    from gankit.metrics.report import one_line_warnings
    from gankit.runs import resume

    if args.nproc is not None:
        from gankit.config import apply_overrides
        from gankit.experiment import config_from_dict
        from gankit.runs.files import read_config

        return _on_processes(args, config_from_dict(apply_overrides(read_config(args.run_dir), list(args.overrides))))
    with one_line_warnings():
        result = resume(args.run_dir, list(args.overrides))
    _report_run(result)
    return 0 if result.completed else 130


def _floats(text: str, option: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{option} takes comma-separated numbers, got {text!r}") from None
    if not values:
        raise ConfigError(f"{option} needs at least one value, got {text!r}")
    return values


def _value_range(text: str) -> list[float]:
    """``"lo,hi,steps"`` -> ``steps`` evenly spaced values from lo to hi."""
    parts = _floats(text, "--range")
    if len(parts) != 3 or not parts[2].is_integer() or parts[2] < 2:
        raise ConfigError(f"--range takes lo,hi,steps with an integer steps >= 2, got {text!r}")
    lo, hi, steps = parts[0], parts[1], int(parts[2])
    return [lo + (hi - lo) * i / (steps - 1) for i in range(steps)]


def _index_pair(text: str) -> tuple[int, int]:
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip().lstrip("-").isdigit() for p in parts):
        raise ConfigError(f"--between-real takes two example indices A,B, got {text!r}")
    return int(parts[0]), int(parts[1])


def _cmd_sample(args: argparse.Namespace) -> int:
    from gankit.runs import load_run
    from gankit.runs.artifacts import save_samples
    from gankit.runs.translation import translation_rows_of_run

    if args.class_grid and (args.n is not None or args.class_id is not None):
        raise ConfigError("--class-grid draws --seeds samples of every class; it takes neither --n nor --class")
    if args.seeds is not None and not args.class_grid:
        raise ConfigError("--seeds goes with --class-grid (use --n for plain samples)")
    if args.pairs and (args.class_grid or args.class_id is not None):
        raise ConfigError("--pairs draws unconditional domain pairs; it takes neither --class nor --class-grid")
    if args.drs is not None and (args.pairs or args.class_grid or args.class_id is not None):
        raise ConfigError("--drs draws unconditional samples; it takes none of --pairs, --class-grid, --class")
    if os.path.isfile(os.path.join(args.run_dir, "model.json")):  # a model written by `gankit export`
        return _sample_exported(args)
    run = load_run(args.run_dir, args.device)
    if args.condition is not None or (args.out or "").endswith(".csv"):
        return _sample_table(run, args)
    if args.pairs:
        n = args.n if args.n is not None else DEFAULT_N_SAMPLES // 2
        out = args.out or os.path.join(args.run_dir, f"pairs-seed{args.seed}.png")
        save_samples(run, run.pair_grid(n, args.seed, use_ema=not args.no_ema), out, nrow=args.nrow or 8)
    elif args.class_grid:
        seeds = args.seeds if args.seeds is not None else DEFAULT_GRID_SEEDS
        out = args.out or os.path.join(args.run_dir, f"class-grid-seed{args.seed}.png")
        save_samples(run, run.class_grid(seeds, args.seed, use_ema=not args.no_ema), out, nrow=seeds)
    else:
        n = args.n if args.n is not None else DEFAULT_N_SAMPLES
        ext = ".txt" if hasattr(run.recipe, "decode_text") else ".png"  # token sequences: text
        out = args.out or os.path.join(args.run_dir, f"sample-seed{args.seed}{ext}")
        if args.drs is not None:
            samples, info = run.rejection_sample(n, args.seed, args.drs, args.drs_partners, args.split, args.data_dir,
                                                 use_ema=not args.no_ema)
            print(f"DRS: accepted {100 * info['acceptance']:.1f} % of proposals (gamma {info['gamma']:.3g})",
                  file=sys.stderr)
        elif run.recipe.translation_directions:  # input | output | target rows of test pairs
            if args.class_id is not None:
                raise ConfigError("--class needs a conditional generator; a translation run's outputs follow its "
                                  "inputs (use `gankit translate`)")
            n = args.n if args.n is not None else DEFAULT_TRANSLATION_PAIRS
            samples = translation_rows_of_run(run, n, args.seed, args.split, args.data_dir, use_ema=not args.no_ema)
            args.nrow = args.nrow or n
        else:
            samples = run.sample(n, args.seed, args.class_id, use_ema=not args.no_ema)
        save_samples(run, samples, out, nrow=args.nrow)
    print(out)
    return 0


def _sample_table(run: Any, args: argparse.Namespace) -> int:
    from gankit.runs.table_samples import sample_table_of_run, write_table_csv

    if args.pairs or args.class_grid or args.class_id is not None or args.drs is not None:
        raise ConfigError("table samples take --n, --seed, --condition and --out only")
    out = args.out or os.path.join(args.run_dir, f"sample-seed{args.seed}.csv")
    if not out.endswith(".csv"):
        raise ConfigError(f"table samples are written as CSV: --out must end in .csv, got {out}")
    n = args.n if args.n is not None else DEFAULT_N_SAMPLES
    write_table_csv(sample_table_of_run(run, n, args.seed, args.condition, use_ema=not args.no_ema), out)
    print(out)
    return 0


def _sample_exported(args: argparse.Namespace) -> int:
    from gankit.runs.artifacts import save_samples
    from gankit.runs.exported import load_generator

    if args.pairs or args.class_grid or args.drs is not None or args.no_ema:
        raise ConfigError("an exported model draws plain samples (--n, --seed, --class); --pairs, --class-grid, "
                          "--drs and --no-ema need the run directory")
    model = load_generator(args.run_dir, args.device)
    n = args.n if args.n is not None else DEFAULT_N_SAMPLES
    samples = model.sample(n, args.seed, args.class_id)
    out = args.out or os.path.join(args.run_dir, f"sample-seed{args.seed}.png")
    save_samples(model, samples, out, nrow=args.nrow)
    print(out)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from gankit.runs.export import export_run

    print(export_run(args.run_dir, args.out, onnx=args.onnx, licence=args.licence))
    return 0


def _cmd_interpolate(args: argparse.Namespace) -> int:
    import torch

    from gankit.runs import load_run
    from gankit.runs.artifacts import save_samples

    if args.between_real is None:
        if args.split is not None or args.data_dir is not None:
            raise ConfigError("--split and --data-dir go with --between-real")
        run = load_run(args.run_dir, args.device)
        rows = args.rows if args.rows is not None else DEFAULT_PATHS
        out = args.out or os.path.join(args.run_dir, "interpolation.png")
        samples = run.interpolate(rows, args.steps, args.seed or 0, args.slerp, use_ema=not args.no_ema)
        save_samples(run, samples, out, nrow=args.steps, paths=rows)
        print(out)
        return 0
    if args.rows is not None or args.seed is not None:
        raise ConfigError("--between-real interpolates one pair of real examples; it takes neither --rows nor --seed")
    a, b = _index_pair(args.between_real)
    split = args.split or "test"
    run = load_run(args.run_dir, args.device)
    out = args.out or os.path.join(args.run_dir, f"interpolation-{split}-{a}-{b}.png")
    x, path = run.interpolate_real(a, b, args.steps, split, args.slerp, args.data_dir, use_ema=not args.no_ema)
    save_samples(run, torch.cat([x[:1], path, x[1:]]), out, nrow=args.steps + 2, paths=1)
    print(out)
    return 0


def _cmd_traverse(args: argparse.Namespace) -> int:
    from gankit.runs import load_run
    from gankit.runs.artifacts import save_samples

    values = (_floats(args.values, "--values") if args.values is not None
              else _value_range(args.value_range) if args.value_range is not None else None)
    run = load_run(args.run_dir, args.device)
    out = args.out or os.path.join(args.run_dir, f"traversal-code{args.code}.png")
    samples = run.traverse(args.code, values, args.rows, args.seed, use_ema=not args.no_ema)
    save_samples(run, samples, out, nrow=samples.shape[0] // args.rows)
    print(out)
    return 0


def _cmd_reconstruct(args: argparse.Namespace) -> int:
    from gankit.runs import load_run
    from gankit.runs.artifacts import save_reconstructions

    run = load_run(args.run_dir, args.device)
    out = args.out or os.path.join(args.run_dir, f"reconstruction-{args.split}.png")
    real, recon = run.reconstructions(args.n, args.split, args.data_dir, use_ema=not args.no_ema)
    save_reconstructions(run, real, recon, out)
    print(out)
    return 0


def _cmd_test_error(args: argparse.Namespace) -> int:
    from gankit.runs import load_run
    from gankit.semi_supervised import classifier_error

    run = load_run(args.run_dir, args.device)
    dataset = run.dataset(args.split, args.data_dir)
    error = classifier_error(run, dataset=dataset, use_ema=not args.no_ema)
    wrong = round(error * len(dataset))
    print(f"{args.split} error {error:.4f} ({wrong} of {len(dataset)} wrong)")
    return 0


def _cmd_classifier(args: argparse.Namespace) -> int:
    from gankit.metrics.classifier import train as classifier_train

    card = classifier_train.run_from_args(args)
    print(f"{card.dataset}: test accuracy {card.test_accuracy:.4f}; weights {card.path}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from gankit.runs.samples import evaluate

    if (args.run_dir is None) == (args.fake is None):
        raise ConfigError("give either RUN_DIR or --fake (a folder, .npz file or dataset), not both")
    from gankit.runs.table_eval import is_table_run

    if args.run_dir is not None and is_table_run(args.run_dir):
        return _eval_table(args)
    if args.target is not None:
        raise ConfigError("--target goes with a table run (ML efficacy)")
    if args.nproc is not None:
        return _on_processes(args, None)
    from gankit.train import distributed

    world = distributed.start(args.device)  # under torchrun: each rank generates and extracts its share
    try:
        code = _evaluate_and_report(args, evaluate, world.writes)
        distributed.finish_together(world)  # rank 0 writes the reports while the others are done
        return code
    finally:
        distributed.stop()


def _evaluate_and_report(args: argparse.Namespace, evaluate: Callable[..., Any], writes: bool) -> int:
    """Evaluate; rank 0 (or the only process) prints the table and writes the JSON files."""
    from gankit.metrics.evaluate import parse_metric_options
    from gankit.metrics.report import METRICS_FILE, format_table, one_line_warnings, write_metrics_json

    with one_line_warnings():
        result = evaluate(
            args.real,
            args.run_dir or args.fake,
            args.metrics,
            features=args.features,
            n=args.n,
            n_real=args.n_real,
            seed=args.seed,
            split=args.split,
            data_dir=args.data_dir,
            classifier=args.classifier,
            resize=args.resize,
            batch_size=args.batch_size,
            device=args.device,
            inception_weights=args.inception_weights,
            options=parse_metric_options(args.metric_opt),
            cache=not args.no_cache,
            partial=True,
        )
        if not writes:  # another rank of several processes: rank 0 reports
            return 0
        print(format_table(result))
        targets = ([os.path.join(args.run_dir, METRICS_FILE)] if args.run_dir else []) + (
            [args.out] if args.out else []
        )
        for path in targets:
            print(f"wrote {write_metrics_json(path, result)}")
    for why in result.refused.values():  # the others are reported and written; the status says one is missing
        print(f"gankit: error: {why}", file=sys.stderr)
    return 2 if result.refused else 0


def _eval_table(args: argparse.Namespace) -> int:
    from gankit.runs import load_run
    from gankit.runs.table_eval import TABLE_METRICS_FILE, evaluate_table_run, write_table_metrics

    if args.real is not None:
        raise ConfigError("a table run is evaluated against its own dataset; it takes no --real")
    result = evaluate_table_run(load_run(args.run_dir, args.device), args.n, args.seed, args.target)
    print(f"{result['n_fake']} synthetic rows vs {result['n_real']} real rows")
    for key in ("mean_ks", "mean_tv", "corr_diff"):
        print(f"{key:<10} {result[key]}")
    for key, value in result.get("ml_efficacy", {}).items():
        print(f"ml_efficacy/{key} {value}")
    for path in [os.path.join(args.run_dir, TABLE_METRICS_FILE)] + ([args.out] if args.out else []):
        write_table_metrics(path, result)
        print(f"wrote {path}")
    return 0


def _cmd_translate(args: argparse.Namespace) -> int:
    from gankit.runs import load_run
    from gankit.runs.translation import require_translator, translate_to_folder

    if args.n is not None and args.n < 1:
        raise ConfigError(f"--n must be >= 1, got {args.n}")
    run = load_run(args.run_dir, args.device)
    require_translator(run, args.direction)  # before reading any input
    written = translate_to_folder(run, args.input, args.out, args.direction, args.split, args.data_dir, args.n,
                                  use_ema=not args.no_ema)
    print(f"wrote {len(written)} images to {args.out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from gankit.report import write_run_report

    print(write_run_report(args.run_dir, args.out, interpolation=not args.no_interpolation))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from gankit.report import write_comparison

    print(write_comparison(args.run_dirs, args.out))
    return 0


def _cmd_presets(args: argparse.Namespace) -> int:
    from gankit.presets import DEFAULT_PRESET, describe_presets

    rows = describe_presets()
    width = max(len(name) for name, _ in rows)
    for name, description in rows:
        mark = " (default)" if name == DEFAULT_PRESET else ""
        print(f"{name:<{width}}  {description}{mark}")
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    from gankit.data import DATASETS

    width = max(len(n) for n in DATASETS.names())
    for name in DATASETS.names():
        print(f"{name:<{width}}  {DATASETS.describe(name)}")
    return 0


COMMANDS = {
    "train": _cmd_train,
    "resume": _cmd_resume,
    "sample": _cmd_sample,
    "export": _cmd_export,
    "interpolate": _cmd_interpolate,
    "traverse": _cmd_traverse,
    "reconstruct": _cmd_reconstruct,
    "test-error": _cmd_test_error,
    "classifier": _cmd_classifier,
    "eval": _cmd_eval,
    "translate": _cmd_translate,
    "report": _cmd_report,
    "compare": _cmd_compare,
    "presets": _cmd_presets,
    "datasets": _cmd_datasets,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        # overrides may come anywhere, also after options: `train --out runs k=v`
        overrides = [e for e in extras if "=" in e and not e.startswith("-")]
        if overrides and hasattr(args, "overrides"):
            args.overrides += overrides
        unknown = [e for e in extras if e not in overrides or not hasattr(args, "overrides")]
        if unknown:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exc:  # --help (0) or a usage error (2, one line already printed)
        return int(exc.code or 0)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what --nproc starts again on N processes
    try:
        return COMMANDS[args.command](args)
    except GankitError as exc:
        print(f"gankit: error: {' '.join(str(exc).split())}", file=sys.stderr)  # one line, whatever it quotes
        return 2
    except BrokenPipeError:  # e.g. `gankit train --dry-run | head`
        return 0
    except OSError as exc:  # unreadable input / unwritable output named by the user
        print(f"gankit: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gankit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
