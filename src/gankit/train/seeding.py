"""One seeding function for every code path, and capture/restore of every RNG state."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from gankit.errors import CheckpointError


def seed_everything(seed: int, rank: int = 0) -> None:
    """Seed Python, NumPy and torch (all devices); ranks get distinct streams."""
    s = seed + rank
    random.seed(s)
    np.random.seed(s % 2**32)
    torch.manual_seed(s)


def capture_rng() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Return (JSON-able states, tensor states) of every global RNG. The JSON part also records
    ``torch_threads``: CPU kernels reduce in a thread-count-dependent order, so a run resumed
    with another count continues on a slightly different trajectory."""
    py_version, py_state, py_gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    json_state = {
        "python": [py_version, list(py_state), py_gauss],
        "numpy": [np_name, np_keys.tolist(), int(np_pos), int(np_has_gauss), float(np_gauss)],
        "torch_threads": torch.get_num_threads(),
    }
    tensors = {"rng/torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{i}"] = state
    return json_state, tensors


def check_rng(json_state: Any, tensors: dict[str, torch.Tensor], source: str = "the checkpoint") -> tuple[Any, ...]:
    """Parse and validate saved RNG states on throwaway generators, touching no global state.
    Returns (python, numpy, torch) states; anything missing or malformed is a ``CheckpointError``
    naming ``source``."""
    if "rng/torch" not in tensors:
        raise CheckpointError(f"{source} has no rng/torch tensor (the torch RNG state): it cannot be resumed")
    try:
        version, state, gauss = json_state["python"]
        py_state = (version, tuple(state), gauss)
        random.Random().setstate(py_state)
        name, keys, pos, has_gauss, cached = json_state["numpy"]
        np_state = (name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached)
        np.random.RandomState().set_state(np_state)
        torch_state = tensors["rng/torch"]
        torch.Generator().set_state(torch_state)
    except (KeyError, TypeError, ValueError, RuntimeError, OverflowError) as exc:
        what = f"no {exc.args[0]!r} entry" if isinstance(exc, KeyError) else " ".join(str(exc).split())[:120]
        raise CheckpointError(f"{source} has an unreadable rng state ({what})") from None
    return py_state, np_state, torch_state


def restore_rng(json_state: dict[str, Any], tensors: dict[str, torch.Tensor], source: str = "the checkpoint") -> None:
    """Restore what :func:`capture_rng` captured; all states are checked before any is set."""
    py_state, np_state, torch_state = check_rng(json_state, tensors, source)
    random.setstate(py_state)
    np.random.set_state(np_state)
    torch.set_rng_state(torch_state)
    cuda = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng/cuda/"))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
