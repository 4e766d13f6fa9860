"""Reproducible training of the domain classifiers shipped in ``weights/``.

``train_classifier("mnist", "/path/to/data", seed=0)`` trains a :class:`DomainClassifier`
on the dataset's train split, evaluates it on the whole test split and writes

* ``<out>.safetensors``: the weights (float32; architecture in the header metadata),
* ``<out>.json``: the card (dataset, seed, hyperparameters, test accuracy, the command
  that reproduces it, torch version, the weights file's sha256 and the wall time).

Both are written atomically (temporary file + ``os.replace``). Training is deterministic
given the seed and the thread count on CPU: parameters are initialised and dropout drawn
from ``torch.manual_seed(seed)`` (inside ``torch.random.fork_rng``, so the caller's RNG is
left untouched), and shuffling and augmentation use an explicit ``torch.Generator``.

Recipe: AdamW with a one-cycle schedule, batch 128; augmentation is random shifts of up
to ``shift`` pixels (padding with the background value -1) and, for Fashion-MNIST,
random horizontal flips. No test-set model selection: the last epoch's weights are kept.

Run it as ``python -m gankit.metrics.classifier.train --data mnist --data-dir DIR``
(``gankit classifier train`` delegates to :func:`main`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from gankit.config import DataConfig
from gankit.errors import ConfigError
from gankit.hashing import sha256_file
from gankit.metrics.classifier.load import (
    FORMAT,
    META_KEY,
    card_path_for,
    default_cache_dir,
)
from gankit.metrics.classifier.net import DomainClassifier
from gankit.progress import progress_bar


@dataclass(frozen=True)
class Recipe:
    """Per-dataset defaults (``train_classifier`` arguments override epochs and lr)."""

    epochs: int
    lr: float  # peak learning rate of the one-cycle schedule
    weight_decay: float
    shift: int  # max random translation in pixels (0 disables)
    hflip: bool  # random horizontal flips
    width: int = 32
    feature_dim: int = 128
    dropout: float = 0.25
    eval_every: int = 0  # also report test accuracy every N epochs (0: only at the end)


RECIPES: dict[str, Recipe] = {
    "mnist": Recipe(epochs=6, lr=3e-3, weight_decay=5e-4, shift=2, hflip=False, eval_every=2),
    "fashion-mnist": Recipe(epochs=12, lr=3e-3, weight_decay=5e-4, shift=2, hflip=True, eval_every=3),
    "digits": Recipe(epochs=40, lr=3e-3, weight_decay=5e-4, shift=1, hflip=False, eval_every=10),
}


@dataclass
class ClassifierCard:
    """What a training run produced; ``to_dict()`` is the JSON card written beside the weights."""

    name: str
    dataset: str
    seed: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    optimizer: str
    schedule: str
    augmentation: dict[str, Any]
    arch: dict[str, int]
    dropout: float
    class_names: list[str]
    num_train: int
    num_test: int
    test_accuracy: float
    test_correct: int
    history: list[dict[str, float]]
    command: str
    torch_version: str
    num_threads: int
    cpu_count: int | None
    platform: str
    wall_time_s: float
    train_time_s: float
    weights_file: str = ""
    sha256: str = ""
    weights_bytes: int = 0
    dtype: str = "float32"
    format: str = FORMAT
    path: str = field(default="", compare=False)  # where the weights were written (not in the card)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("path")
        return out


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(str(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # safetensors may create it 0600
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise


def save_classifier(
    model: DomainClassifier, path: str | os.PathLike[str], meta: dict[str, Any] | None = None
) -> tuple[str, int]:
    """Atomically write ``model``'s weights (float32 safetensors); returns (sha256, bytes)."""
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    header = {META_KEY: json.dumps({"format": FORMAT, "arch": model.arch.to_dict(), **(meta or {})})}
    path = Path(path)
    _atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=header))
    return sha256_file(path), path.stat().st_size


def write_card(card: dict[str, Any], path: str | os.PathLike[str]) -> None:
    text = json.dumps(card, indent=2, sort_keys=False) + "\n"

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    _atomic_write(Path(path), write)


def augment(x: torch.Tensor, shift: int, hflip: bool, gen: torch.Generator) -> torch.Tensor:
    """Random per-image shifts in [-shift, shift] (background -1 fills) and optional h-flips."""
    if hflip:
        flip = torch.rand(x.shape[0], generator=gen) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    if shift > 0:
        n, _, h, w = x.shape
        padded = F.pad(x, (shift, shift, shift, shift), value=-1.0)
        dy = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
        dx = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
        rows = dy[:, None] + torch.arange(h)  # (N, H)
        cols = dx[:, None] + torch.arange(w)  # (N, W)
        idx = torch.arange(n)[:, None, None]
        x = padded[idx, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2).contiguous()
    return x


@torch.no_grad()
def evaluate(model: DomainClassifier, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> int:
    """Number of correct predictions (model in eval mode)."""
    was_training = model.training
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch_size):
        correct += int((model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
    model.train(was_training)
    return correct


PCT_START = 0.25  # fraction of the steps spent warming up in the one-cycle schedule


def _schedule(opt: torch.optim.Optimizer, lr: float, total_steps: int):
    """One-cycle (``OneCycleLR``, cosine) over ``total_steps``; constant ``lr`` for runs too
    short to have a warm-up phase (fewer than ``2 / PCT_START`` steps, i.e. smoke tests)."""
    if PCT_START * total_steps >= 2:
        return torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=lr, total_steps=total_steps, pct_start=PCT_START
        )
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)


def _nproc() -> int | None:
    """CPUs this process may run on (what ``nproc`` prints)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count()


def _load(dataset: str, split: str, data_dir: str | None, limit: int, download: bool):
    from gankit.data import build_dataset  # local: registers the builders

    ds = build_dataset(
        DataConfig(name=dataset, split=split, path=data_dir or "", limit=limit, download=download)
    )
    if not ds.is_image or ds.y is None:
        raise ConfigError(f"{dataset} is not a labelled image dataset")
    return ds


def train_classifier(
    dataset: str,
    data_dir: str | None = None,
    seed: int = 0,
    epochs: int | None = None,
    batch_size: int = 128,
    lr: float | None = None,
    out_path: str | None = None,
    progress: bool = True,
    *,
    weight_decay: float | None = None,
    limit: int = 0,
    test_limit: int = 0,
    num_threads: int = 2,
    eval_every: int | None = None,
    download: bool = True,
    log: Callable[[str], None] | None = None,
) -> ClassifierCard:
    """Train the classifier for ``dataset`` ("mnist", "fashion-mnist", "digits").

    ``epochs``/``lr``/``weight_decay`` default to ``RECIPES[dataset]``. ``limit`` /
    ``test_limit`` use only the first N train / test images (0 = all; for quick checks).
    ``out_path`` is the weights file (the card goes beside it as ``.json``); ``None`` writes
    ``<cache>/gankit/classifiers/<dataset>.safetensors``. ``progress`` prints the log lines
    (to ``log`` if given, else stdout). ``num_threads`` is set for the run and restored after.
    """
    if dataset not in RECIPES:
        raise ConfigError(f"no classifier recipe for {dataset!r} (known: {', '.join(RECIPES)})")
    recipe = RECIPES[dataset]
    epochs = recipe.epochs if epochs is None else int(epochs)
    lr = recipe.lr if lr is None else float(lr)
    weight_decay = recipe.weight_decay if weight_decay is None else float(weight_decay)
    if epochs < 1 or batch_size < 2 or lr <= 0:
        raise ConfigError(f"need epochs >= 1, batch_size >= 2, lr > 0 (got {epochs}, {batch_size}, {lr})")
    emit = (log or (lambda s: print(s, flush=True))) if progress else (lambda s: None)

    t_start = time.perf_counter()
    train = _load(dataset, "train", data_dir, limit, download)
    test = _load(dataset, "test", data_dir, test_limit, download)
    x_train, y_train = train.x.contiguous(), train.y
    x_test, y_test = test.x.contiguous(), test.y
    n = x_train.shape[0]
    channels, resolution = x_train.shape[1], x_train.shape[-1]
    num_classes = int(train.num_classes) or int(y_train.max()) + 1
    command = f"gankit classifier train --data {dataset} --seed {seed} --epochs {epochs}"
    if batch_size != 128:
        command += f" --batch-size {batch_size}"
    if lr != recipe.lr:
        command += f" --lr {lr:g}"
    if limit:
        command += f" --limit {limit}"
    if num_threads != 2:
        command += f" --threads {num_threads}"
    eval_every = recipe.eval_every if eval_every is None else int(eval_every)

    prev_threads = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    emit(f"# gankit classifier: {dataset}, seed {seed}, {epochs} epochs, batch {batch_size}, lr {lr:g}")
    emit(
        f"# machine: nproc {_nproc()}, torch {torch.__version__}, threads {num_threads}, "
        f"python {platform.python_version()}, {platform.platform()}"
    )
    emit(f"# data: {n} train / {x_test.shape[0]} test images, shape {tuple(x_train.shape[1:])}")
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            gen = torch.Generator().manual_seed(seed)
            model = DomainClassifier(
                channels, resolution, num_classes, recipe.width, recipe.feature_dim, recipe.dropout
            )
            opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
            steps = max(1, n // batch_size)
            sched = _schedule(opt, lr, epochs * steps)
            emit(f"# params: {sum(p.numel() for p in model.parameters())}, steps/epoch {steps}")
            history: list[dict[str, float]] = []
            t_train = time.perf_counter()
            for epoch in progress_bar(epochs, f"{dataset} classifier", "epoch", iterable=range(1, epochs + 1)):
                t_epoch = time.perf_counter()
                model.train()
                perm = torch.randperm(n, generator=gen)
                loss_sum, correct, seen = 0.0, 0, 0
                for s in range(steps):
                    idx = perm[s * batch_size : (s + 1) * batch_size] if steps > 1 else perm
                    xb = augment(x_train[idx], recipe.shift, recipe.hflip, gen)
                    yb = y_train[idx]
                    logits = model(xb)
                    loss = F.cross_entropy(logits, yb)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    sched.step()
                    loss_sum += loss.item() * yb.shape[0]
                    correct += int((logits.argmax(1) == yb).sum())
                    seen += yb.shape[0]
                rec: dict[str, float] = {
                    "epoch": epoch,
                    "train_loss": round(loss_sum / seen, 6),
                    "train_acc": round(correct / seen, 6),  # on augmented batches, dropout on
                    "seconds": round(time.perf_counter() - t_epoch, 2),
                }
                line = (
                    f"epoch {epoch:3d}/{epochs}  lr {sched.get_last_lr()[0]:.2e}  "
                    f"loss {rec['train_loss']:.4f}  train_acc {rec['train_acc']:.4f}"
                )
                if eval_every > 0 and epoch % eval_every == 0 and epoch < epochs:
                    rec["test_acc"] = round(evaluate(model, x_test, y_test) / x_test.shape[0], 6)
                    line += f"  test_acc {rec['test_acc']:.4f}"
                history.append(rec)
                emit(f"{line}  ({rec['seconds']:.1f} s train)")
            train_time = time.perf_counter() - t_train
            model.eval()
            test_correct = evaluate(model, x_test, y_test)
    finally:
        torch.set_num_threads(prev_threads)

    accuracy = test_correct / x_test.shape[0]
    path = Path(out_path) if out_path else default_cache_dir() / f"{dataset}.safetensors"
    sha, nbytes = save_classifier(model, path, {"dataset": dataset, "seed": seed})
    wall = time.perf_counter() - t_start
    card = ClassifierCard(
        name=dataset,
        dataset=dataset,
        seed=seed,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        optimizer="AdamW",
        schedule=f"OneCycleLR(pct_start={PCT_START}, cosine anneal), stepped per batch",
        augmentation={"shift_px": recipe.shift, "hflip": recipe.hflip},
        arch=model.arch.to_dict(),
        dropout=recipe.dropout,
        class_names=list(train.class_names) or [str(i) for i in range(num_classes)],
        num_train=n,
        num_test=int(x_test.shape[0]),
        test_accuracy=round(accuracy, 6),
        test_correct=test_correct,
        history=history,
        command=command,
        torch_version=torch.__version__,
        num_threads=num_threads,
        cpu_count=_nproc(),
        platform=platform.platform(),
        wall_time_s=round(wall, 1),
        train_time_s=round(train_time, 1),
        weights_file=path.name,
        sha256=sha,
        weights_bytes=nbytes,
        path=str(path),
    )
    write_card(card.to_dict(), card_path_for(path))
    emit(f"final test accuracy: {accuracy:.4f} ({test_correct}/{x_test.shape[0]})")
    emit(f"wall time: {wall:.1f} s (training {train_time:.1f} s)")
    emit(f"weights: {path} ({nbytes} bytes, sha256 {sha})")
    return card


# --------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``gankit classifier train`` (shared with ``python -m`` of this module)."""
    parser.add_argument("--data", required=True, choices=sorted(RECIPES), help="dataset")
    parser.add_argument("--data-dir", default=None, help="directory with the MNIST-format files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None, help="default: the dataset's recipe")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=None, help="peak one-cycle learning rate")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N train images")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--eval-every", type=int, default=None, help="test accuracy every N epochs")
    parser.add_argument("--out", default=None, help="weights file (default: the user cache)")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")


def run_from_args(args: argparse.Namespace) -> ClassifierCard:
    return train_classifier(
        args.data,
        args.data_dir,
        seed=args.seed,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        out_path=args.out,
        progress=not args.quiet,
        limit=args.limit,
        num_threads=args.threads,
        eval_every=args.eval_every,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gankit classifier train", description="Train a domain classifier for metrics."
    )
    add_arguments(parser)
    run_from_args(parser.parse_args(argv))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
