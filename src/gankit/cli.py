"""`gankit` command line: parse -> typed config -> call a library function (DESIGN.md item 12)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import NoReturn, Sequence

from gankit.errors import GankitError

EXAMPLES = """\
examples:
  gankit train                                   # default preset: DCGAN on sklearn's 8x8 digits
  gankit train --preset ring-gan train.steps=2000 recipe.loss=hinge
  gankit train --preset mnist-dcgan --data-dir ../shared/data train.device=cuda
  gankit train --preset mnist-wgan-gp --dry-run  # print the resolved config and exit
  gankit resume runs/ring-gan-20261123-101500 train.steps=4000
  gankit sample runs/RUN --n 64 --seed 1 --out samples.png   # EMA weights by default
  gankit sample runs/RUN --n 10000 --out samples.npz          # raw arrays for metrics
  gankit interpolate runs/RUN --steps 10 --rows 6 --slerp --out interp.png
  gankit classifier train --data mnist --data-dir ../shared/data --seed 0
  gankit eval runs/RUN --metrics fid,kid,pr,nn1 --n 10000   # real = the run's test split
  gankit eval runs/RUN --metrics fid,is --features classifier --real mnist --data-dir ../shared/data
  gankit eval runs/ring-gan-RUN --metrics mode_coverage,mmd --n 2500
  gankit eval --real imgs/real --fake imgs/fake --metrics fid,kid --out metrics.json
  gankit eval --real mnist --fake samples.npz --metrics fid --metric-opt fid.allow_singular=true
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
            name, help=help_text, description=help_text, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
        )

    p = add("train", "train a preset (default: digits-dcgan) with section.key=value overrides")
    p.add_argument("--preset", default=None, help="preset name or path to a TOML file (`gankit presets` lists them)")
    p.add_argument("--data-dir", default=None, help="directory with MNIST-format data (same as data.path=DIR)")
    p.add_argument("--out", default=None, help="parent directory of the run (same as train.out_dir=DIR)")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config as JSON and exit")
    p.add_argument("overrides", nargs="*", metavar="section.key=value")

    p = add("resume", "continue a run from its checkpoint, exactly")
    p.add_argument("run_dir")
    p.add_argument("overrides", nargs="*", metavar="train.key=value", help="e.g. train.steps=4000")

    p = add("sample", "draw samples from a trained run (PNG grid/scatter, or .npz arrays)")
    p.add_argument("run_dir")
    p.add_argument("--n", type=int, default=64, help="number of samples")
    p.add_argument("--seed", type=int, default=0, help="latent seed")
    p.add_argument("--out", default=None, help="output .png or .npz (default RUN_DIR/sample-seedS.png)")
    p.add_argument("--class", dest="class_id", type=int, default=None, help="class label for conditional models")
    p.add_argument("--no-ema", action="store_true", help="use the live generator instead of its EMA")
    p.add_argument("--nrow", type=int, default=None, help="images per row of the grid")
    p.add_argument("--device", default="cpu")

    p = add("interpolate", "latent interpolation strips between random latent pairs")
    p.add_argument("run_dir")
    p.add_argument("--steps", type=int, default=8, help="points along each path (>= 2)")
    p.add_argument("--rows", type=int, default=4, help="number of paths")
    p.add_argument("--slerp", action="store_true", help="spherical instead of linear interpolation")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="output .png (default RUN_DIR/interpolation.png)")
    p.add_argument("--no-ema", action="store_true")
    p.add_argument("--device", default="cpu")

    p = add("classifier", "domain classifiers used for in-domain metrics")
    csub = p.add_subparsers(dest="classifier_command", metavar="ACTION", parser_class=_Parser)
    csub.required = True
    from gankit.metrics.classifier import train as classifier_train

    classifier_train.add_arguments(csub.add_parser("train", help="train a domain classifier reproducibly"))

    p = add("eval", "evaluate a run (or --fake folder/.npz/dataset) against real data: FID, KID, IS, PR, ...")
    p.add_argument("run_dir", nargs="?", default=None, help="run directory (writes RUN_DIR/metrics.json)")
    p.add_argument("--fake", default=None, help="instead of RUN_DIR: an image folder, .npz file or dataset name")
    p.add_argument("--real", default=None, help="dataset name, image folder or .npz (default: the run's dataset, test split)")
    p.add_argument("--metrics", default="fid", help="comma-separated: fid,kid,is,mode_score,pr,dc,nn1,mmd,swd,"
                   "wasserstein,emc,parzen,mode_coverage,class_acc,stacked_mnist")
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
    p.add_argument("--device", default="cpu")

    add("presets", "list the presets with a one-line description")
    add("datasets", "list the registered datasets")
    return parser


def _cmd_train(args: argparse.Namespace) -> int:
    from gankit.config import to_dict
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
    result = train(cfg)
    print(f"run directory: {result.run_dir} ({result.steps} steps{'' if result.completed else ', stopped early'})")
    return 0 if result.completed else 130


def _cmd_resume(args: argparse.Namespace) -> int:
    from gankit.runs import resume

    result = resume(args.run_dir, list(args.overrides))
    print(f"run directory: {result.run_dir} ({result.steps} steps{'' if result.completed else ', stopped early'})")
    return 0 if result.completed else 130


def _cmd_sample(args: argparse.Namespace) -> int:
    from gankit.run_artifacts import save_samples
    from gankit.runs import load_run

    run = load_run(args.run_dir, args.device)
    out = args.out or os.path.join(args.run_dir, f"sample-seed{args.seed}.png")
    samples = run.sample(args.n, args.seed, args.class_id, use_ema=not args.no_ema)
    save_samples(run, samples, out, nrow=args.nrow)
    print(out)
    return 0


def _cmd_interpolate(args: argparse.Namespace) -> int:
    from gankit.run_artifacts import save_samples
    from gankit.runs import load_run

    run = load_run(args.run_dir, args.device)
    out = args.out or os.path.join(args.run_dir, "interpolation.png")
    samples = run.interpolate(args.rows, args.steps, args.seed, args.slerp, use_ema=not args.no_ema)
    save_samples(run, samples, out, nrow=args.steps, paths=args.rows)
    print(out)
    return 0


def _cmd_classifier(args: argparse.Namespace) -> int:
    from gankit.metrics.classifier import train as classifier_train

    card = classifier_train.run_from_args(args)
    print(f"{card.dataset}: test accuracy {card.test_accuracy:.4f}; weights {card.path}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from gankit.errors import ConfigError
    from gankit.metrics.evaluate import evaluate, parse_metric_options
    from gankit.metrics.report import METRICS_FILE, format_table, one_line_warnings, write_metrics_json

    if (args.run_dir is None) == (args.fake is None):
        raise ConfigError("give either RUN_DIR or --fake (a folder, .npz file or dataset), not both")
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
        )
        print(format_table(result))
        targets = ([os.path.join(args.run_dir, METRICS_FILE)] if args.run_dir else []) + ([args.out] if args.out else [])
        for path in targets:
            print(f"wrote {write_metrics_json(path, result)}")
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
    "interpolate": _cmd_interpolate,
    "classifier": _cmd_classifier,
    "eval": _cmd_eval,
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
    try:
        return COMMANDS[args.command](args)
    except GankitError as exc:
        print(f"gankit: error: {exc}", file=sys.stderr)
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
