"""Checkpoints: one safetensors file, tensors inside, everything else as JSON metadata.

A checkpoint holds all networks, their EMA copies, every optimizer (tensor state and
param groups), the AMP scaler, counters, every RNG state, the data order and the resolved
config — enough to continue bit-for-bit. It is written to a temporary
file in the same directory and renamed over the previous one only once complete, so an
interruption at any instant leaves the previous checkpoint intact. Loading uses
safetensors only: nothing in the file can execute code.
"""

from __future__ import annotations

import glob
import json
import os
from typing import Any, Mapping

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from torch import nn

from gankit.atomic import atomic_write
from gankit.errors import CheckpointError
from gankit.faults import fault_point
from gankit.train.nonfinite import first_non_finite
from gankit.train.seeding import check_rng

FORMAT = "gankit-checkpoint/1"
META_KEY = "gankit"
CHECKPOINT_NAME = "checkpoint.safetensors"


# --------------------------------------------------------------------------- file level


def save_checkpoint(path: str, tensors: Mapping[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Atomically write ``tensors`` and JSON ``meta`` to ``path`` (temp file + rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    for stale in glob.glob(os.path.join(directory, f".{os.path.basename(path)}.*.tmp")):
        os.remove(stale)  # left by a process killed mid-write
    payload = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    header = {META_KEY: json.dumps({"format": FORMAT, **meta})}
    data = save(payload, metadata=header)
    half = len(data) // 2
    with atomic_write(path) as fh:
        fh.write(data[:half])
        fault_point("checkpoint.write", fh)  # a test can kill the process here, mid-file
        fh.write(data[half:])


def _not_safetensors(path: str) -> str | None:
    """Why ``path`` is not a safetensors file, or None. The format: an 8-byte little-endian header
    length N, then N bytes of JSON starting with ``{``, then the tensor bytes."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(9)
    if size == 0:
        return "it is empty"
    if len(head) == 9 and head[8:9] == b"{":  # a safetensors start (its length's first byte may be anything)
        return "its header is truncated" if int.from_bytes(head[:8], "little") > size - 8 else None
    if head[:1] == b"\x80":
        return "it looks like a pickle; gankit never unpickles checkpoints"
    if head[:4] == b"PK\x03\x04":
        return "it looks like a zip archive (torch.save); gankit never unpickles checkpoints"
    return "no safetensors header at its start"


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def load_checkpoint(path: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint` (never unpickles)."""
    if not os.path.isfile(path):
        raise CheckpointError(f"no checkpoint at {path}")
    why = _not_safetensors(path)
    if why:
        raise CheckpointError(f"{path} is not a valid safetensors checkpoint: not a safetensors file ({why})")
    try:
        with safe_open(path, framework="pt", device="cpu") as fh:
            header = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a valid safetensors checkpoint ({exc})") from None
    try:
        meta = json.loads(header[META_KEY])
    except (KeyError, json.JSONDecodeError):
        raise CheckpointError(f"{path} is a safetensors file but not a gankit checkpoint") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise CheckpointError(f"{path} has format {found!r}; expected {FORMAT}")
    if "step" in meta and not _is_count(meta["step"]):
        raise CheckpointError(f"{path}: step must be an integer >= 0, got {meta['step']!r}")
    return tensors, meta


# what Trainer.load_checkpoint reads from the JSON metadata, each a table
TRAINING_TABLES = ("config", "optimizers", "rng", "loader")


def check_resumable(tensors: Mapping[str, torch.Tensor], meta: Mapping[str, Any], path: str) -> None:
    """Raise ``CheckpointError`` naming ``path`` unless a trainer can continue from this checkpoint:
    a step count, the tables the trainer restores and every RNG state (checked, not restored)."""
    if not _is_count(meta.get("step")):
        raise CheckpointError(f"{path}: step must be an integer >= 0, got {meta.get('step')!r}")
    for key in TRAINING_TABLES:
        if not isinstance(meta.get(key), dict):
            raise CheckpointError(f"{path} has no {key} table: it cannot be resumed")
    if "recipe_state" not in meta:
        raise CheckpointError(f"{path} has no recipe_state: it cannot be resumed")
    check_rng(meta["rng"], {k: v for k, v in tensors.items() if k.startswith("rng/")}, path)
    bad = first_non_finite(tensors)  # gankit never writes one (train.on_nonfinite): the file was damaged
    if bad is not None:
        raise CheckpointError(f"{path}: {bad} holds NaN or Inf values; it cannot be resumed")


# --------------------------------------------------------------------------- modules


def module_tensors(prefix: str, modules: Mapping[str, nn.Module]) -> dict[str, torch.Tensor]:
    return {
        f"{prefix}/{name}/{key}": value
        for name, module in modules.items()
        for key, value in module.state_dict().items()
    }


def load_module_tensors(
    prefix: str, modules: Mapping[str, nn.Module], tensors: Mapping[str, torch.Tensor], path: str
) -> None:
    """Load ``prefix/<module>/<key>`` tensors strictly; any mismatch is a CheckpointError."""
    for name, module in modules.items():
        expected = module.state_dict()
        head = f"{prefix}/{name}/"
        found = {k[len(head) :]: v for k, v in tensors.items() if k.startswith(head)}
        missing = sorted(set(expected) - set(found))
        unexpected = sorted(set(found) - set(expected))
        if missing or unexpected:
            what = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
            raise CheckpointError(
                f"{path} does not match this model's {name} network ({what}); "
                "it was written by a different architecture or configuration"
            )
        for key, value in expected.items():
            if found[key].shape != value.shape:
                raise CheckpointError(
                    f"{path} does not match this model's {name} network: {key} has shape "
                    f"{tuple(found[key].shape)} in the checkpoint, {tuple(value.shape)} in the model"
                )
        module.load_state_dict({k: v.to(expected[k].device) for k, v in found.items()})


# --------------------------------------------------------------------------- recipe state

RECIPE_PREFIX = "recipe/"


def recipe_tensors(recipe: Any) -> dict[str, torch.Tensor]:
    """A recipe's ``state_tensors()`` as ``recipe/<name>`` checkpoint entries."""
    return {f"{RECIPE_PREFIX}{k}": v for k, v in recipe.state_tensors().items()}


def load_recipe_state(recipe: Any, meta: Mapping[str, Any], tensors: Mapping[str, torch.Tensor], path: str) -> None:
    """Restore a recipe's JSON state (``meta["recipe_state"]``), then its ``recipe/`` tensors."""
    own = {k[len(RECIPE_PREFIX):]: v for k, v in tensors.items() if k.startswith(RECIPE_PREFIX)}
    try:
        recipe.load_state_dict(meta["recipe_state"])
        recipe.load_state_tensors(own)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: unreadable recipe state ({exc})") from None


# --------------------------------------------------------------------------- optimizers


def optimizer_state(name: str, opt: torch.optim.Optimizer) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Split an optimizer's state_dict into JSON (param groups, scalars) and tensors."""
    state = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, per_param in state["state"].items():
        for key, value in per_param.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{name}/{idx}/{key}"] = value
            else:
                scalars.setdefault(str(idx), {})[key] = value
    return {"param_groups": state["param_groups"], "scalars": scalars}, tensors


def load_optimizer_state(
    name: str, opt: torch.optim.Optimizer, meta: dict[str, Any], tensors: Mapping[str, torch.Tensor], path: str
) -> None:
    head = f"optim/{name}/"
    per_param: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(head):
            idx, field = key[len(head) :].split("/", 1)
            per_param.setdefault(int(idx), {})[field] = value
    for idx, fields in meta["scalars"].items():
        per_param.setdefault(int(idx), {}).update(fields)
    groups = [
        {k: tuple(v) if k == "betas" else v for k, v in group.items()} for group in meta["param_groups"]
    ]
    try:
        opt.load_state_dict({"state": per_param, "param_groups": groups})
    except (ValueError, KeyError, RuntimeError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: optimizer {name} does not match this model ({exc})") from None
    _check_optimizer_state(name, opt, path)


def _check_optimizer_state(name: str, opt: torch.optim.Optimizer, path: str) -> None:
    """Refuse a loaded optimizer state that would fail at its first step: every parameter with
    state has the same keys, each tensor (``step`` aside) the parameter's shape and dtype."""
    keys: set[str] | None = None
    for group in opt.param_groups:
        for param in group["params"]:
            state = opt.state.get(param)
            if not state:
                continue
            if keys is not None and set(state) != keys:
                odd = sorted(keys ^ set(state))[0]
                raise CheckpointError(f"{path}: optimizer {name} state is incomplete ({odd} not in every parameter's)")
            keys = set(state)
            for key, value in state.items():
                if not isinstance(value, torch.Tensor):
                    continue
                if key == "step":
                    if value.numel() != 1 or not value.is_floating_point():
                        raise CheckpointError(f"{path}: optimizer {name} step must be one float, got {value.dtype} "
                                              f"{tuple(value.shape)}")
                elif value.shape != param.shape or value.dtype != param.dtype:
                    raise CheckpointError(
                        f"{path}: optimizer {name} {key} has {value.dtype} {tuple(value.shape)}, "
                        f"the parameter {param.dtype} {tuple(param.shape)}"
                    )
