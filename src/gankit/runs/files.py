"""The files of a run directory: where its config and checkpoint are, read without training."""

from __future__ import annotations

import json
import os
from typing import Any

import torch

from gankit.errors import CheckpointError, ConfigError
from gankit.train import checkpoint as ckpt

CONFIG_NAME = "config.json"


def checkpoint_meta(run_dir: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and JSON metadata of ``run_dir``'s checkpoint (``CheckpointError`` if none)."""
    if not os.path.isdir(run_dir):
        raise CheckpointError(f"run directory not found: {run_dir}")
    return ckpt.load_checkpoint(os.path.join(run_dir, ckpt.CHECKPOINT_NAME))


def read_config(run_dir: str) -> dict[str, Any]:
    path = os.path.join(run_dir, CONFIG_NAME)
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path} not found: is {run_dir} a gankit run directory?") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc})") from None
