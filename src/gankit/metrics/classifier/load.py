"""Load the shipped (or a user's) domain classifier and run it on images.

``load_classifier("mnist")`` reads ``weights/mnist.safetensors`` inside the installed
package (``importlib.resources``) and checks its sha256 against ``weights/mnist.json`` (the
card). ``load_classifier(name, weights_path)`` loads a file written by
``train_classifier``; its card must lie beside it (``x.safetensors`` -> ``x.json``). For a
name with no shipped weights, the user cache (``<cache>/gankit/classifiers/<name>``, where
``train_classifier`` writes by default) is used. Only safetensors is read: nothing in a
weights file can execute code. Every failure (missing file or card, hash mismatch,
corrupt file, wrong architecture) is a :class:`~gankit.errors.CheckpointError`.
"""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open

from gankit.errors import CheckpointError, ShapeError
from gankit.hashing import sha256_file
from gankit.metrics.classifier.net import ClassifierArch, DomainClassifier
from gankit.progress import progress_bar

SHIPPED: tuple[str, ...] = ("mnist", "fashion-mnist", "digits")
FORMAT = "gankit-classifier/1"  # in the card and the weights' header metadata
META_KEY = "gankit"  # safetensors header key holding {"format", "arch", ...} as JSON


def default_cache_dir() -> Path:
    """Where ``train_classifier`` writes when no ``out_path`` is given (and ``load`` looks)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gankit" / "classifiers"


def card_path_for(weights_path: str | os.PathLike[str]) -> Path:
    """The card beside a weights file: ``x.safetensors`` -> ``x.json``."""
    p = Path(weights_path)
    return p.with_suffix(".json") if p.suffix == ".safetensors" else p.with_name(p.name + ".json")


def _shipped_file(filename: str) -> Any:  # a Traversable
    return resources.files("gankit.metrics.classifier").joinpath("weights", filename)


def _resolve(name: str, weights_path: str | os.PathLike[str] | None) -> tuple[Any, Any, str]:
    """(weights, card) as Traversable/Path objects, and a description for messages."""
    if weights_path is not None:
        p = Path(weights_path).expanduser()
        return p, card_path_for(p), str(p)
    shipped = _shipped_file(f"{name}.safetensors")
    if shipped.is_file() or name in SHIPPED:
        return shipped, _shipped_file(f"{name}.json"), f"shipped classifier {name!r} ({shipped})"
    cached = default_cache_dir() / f"{name}.safetensors"
    if cached.is_file():
        return cached, card_path_for(cached), str(cached)
    raise CheckpointError(
        f"no classifier named {name!r}: shipped ones are {', '.join(SHIPPED)}; train one with "
        f"`gankit classifier train --data {name}` (writes {cached}) or pass weights_path"
    )


def _read_card(card_file: Any, where: str) -> dict[str, Any]:
    if not card_file.is_file():
        raise CheckpointError(f"{where}: its card {card_file} is missing (needed to verify the file)")
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{where}: card {card_file} is not valid JSON ({exc})") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT or "sha256" not in card:
        raise CheckpointError(f"{where}: card {card_file} is not a gankit classifier card")
    return card


def classifier_card(name: str, weights_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The JSON card of classifier ``name`` (shipped, cached, or beside ``weights_path``)."""
    _, card_file, where = _resolve(name, weights_path)
    return _read_card(card_file, where)


def load_classifier(name: str, weights_path: str | os.PathLike[str] | None = None) -> DomainClassifier:
    """The classifier for dataset ``name`` in eval mode, verified against its card's sha256."""
    weights_file, card_file, where = _resolve(name, weights_path)
    if not weights_file.is_file():
        hint = "" if weights_path is not None else " (gankit installed without its package data?)"
        raise CheckpointError(f"{where}: weights file is missing{hint}")
    card = _read_card(card_file, where)
    if card.get("dataset") != name:
        raise CheckpointError(
            f"{where}: the card says it classifies {card.get('dataset')!r}, not {name!r}"
        )
    with ExitStack() as stack:
        path = stack.enter_context(resources.as_file(weights_file))
        actual = sha256_file(path)
        if actual != card["sha256"]:
            raise CheckpointError(
                f"{where}: sha256 {actual} does not match its card ({card['sha256']}); "
                "the file is corrupt or was replaced — reinstall gankit or retrain it"
            )
        try:
            with safe_open(str(path), framework="pt", device="cpu") as fh:
                header = fh.metadata() or {}
                tensors = {k: fh.get_tensor(k) for k in fh.keys()}
        except (SafetensorError, OSError, ValueError) as exc:
            raise CheckpointError(f"{where} is not a valid safetensors file ({exc})") from None
    try:
        meta = json.loads(header[META_KEY])
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}")
        arch = ClassifierArch(**meta["arch"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{where} is not a gankit classifier file ({exc})") from None
    model = DomainClassifier(**arch.to_dict())
    expected = model.state_dict()
    if set(expected) != set(tensors) or any(
        tensors[k].shape != v.shape or tensors[k].dtype != v.dtype for k, v in expected.items()
    ):
        raise CheckpointError(f"{where}: tensors do not match the architecture {arch}")
    model.load_state_dict(tensors)
    return model.eval()


def _as_tensor(images: Any, model: DomainClassifier) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images)
    if x.ndim == 3 and model.channels == 1:
        x = x[:, None]
    if x.ndim != 4:
        raise ShapeError(f"images must be (N, C, H, W) (or (N, H, W) for 1 channel), got {tuple(x.shape)}")
    if x.shape[1] != model.channels:
        raise ShapeError(
            f"this classifier takes {model.channels}-channel images, got {x.shape[1]} channels "
            "(for Stacked-MNIST classify each channel separately)"
        )
    return x.to(torch.float32).contiguous()  # one memory layout: reproducible kernels


@torch.no_grad()
def _batched(model: DomainClassifier, images: Any, batch_size: int, fn) -> list[torch.Tensor]:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    x = _as_tensor(images, model)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    try:
        with progress_bar(x.shape[0], "classifier features", "image") as bar:
            for i in range(0, x.shape[0], batch_size):
                out.append(fn(x[i : i + batch_size].to(device)).cpu())
                bar.update(min(batch_size, x.shape[0] - i))
        return out
    finally:
        model.train(was_training)


def predict(
    classifier: DomainClassifier, images: Any, batch_size: int = 500
) -> tuple[np.ndarray, np.ndarray]:
    """``(labels int64 (N,), probs float64 (N, K))`` for images ``(N, C, H, W)`` in [-1, 1]."""
    k = classifier.num_classes
    chunks = _batched(classifier, images, batch_size, classifier)
    logits = torch.cat(chunks) if chunks else torch.empty(0, k)
    probs = torch.softmax(logits.to(torch.float64), dim=1).numpy()
    return probs.argmax(axis=1).astype(np.int64), probs


def features(classifier: DomainClassifier, images: Any, batch_size: int = 500) -> np.ndarray:
    """Penultimate features ``float64 (N, F)`` for images ``(N, C, H, W)`` in [-1, 1]."""
    chunks = _batched(classifier, images, batch_size, classifier.features)
    out = torch.cat(chunks) if chunks else torch.empty(0, classifier.feature_dim)
    return out.to(torch.float64).numpy()
