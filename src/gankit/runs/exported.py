"""A shared model: the directory ``gankit export`` writes, loaded without its run or training config.

``model.json`` names the network family and its ``[model]`` config, the data the generator was
built for, its latent prior and classes; ``generator.safetensors`` holds the generator's
weights. ``load_generator`` rebuilds the network through the network registry and loads the
weights with safetensors (tensors only: nothing is unpickled, no code runs).
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from gankit.errors import CheckpointError, ConfigError
from gankit.nets import NetSpec, build_networks, model_config
from gankit.train.nonfinite import first_non_finite

MODEL_NAME = "model.json"
WEIGHTS_NAME = "generator.safetensors"
ONNX_NAME = "generator.onnx"
CARD_NAME = "README.md"
FORMAT = "gankit-generator"
FORMAT_VERSION = 1


class ExportedGenerator(nn.Module):
    """A generator ``G(z[, c])`` with what sampling needs: latent size and prior (N(0, I)),
    classes, sample shape. ``sample(n, seed, class_id)`` equals ``LoadedRun.sample`` of the run
    it was exported from, draw for draw."""

    def __init__(self, G: nn.Module, info: dict[str, Any]) -> None:
        super().__init__()
        self.G = G
        self.info = info
        self.z_dim = int(info["latent"]["z_dim"])
        self.num_classes = int(info["classes"]["num_classes"])
        self.class_names = list(info["classes"].get("names", []))
        self.sample_shape = tuple(int(s) for s in info["sample_shape"])
        modes = info.get("modes") or {}
        self.data = {"mode_centres": modes.get("centres"), "mode_std": modes.get("std")}  # 2-D toys' scatter plots

    @property
    def is_image(self) -> bool:
        return len(self.sample_shape) == 3

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.G(z, c if self.num_classes else None)  # (n, *sample_shape)

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` latents z ~ N(0, I), ``(n, z_dim)``, drawn on the CPU with ``generator``."""
        return torch.randn(n, self.z_dim, generator=generator)

    def labels(self, n: int, class_id: int | None = None) -> torch.Tensor | None:
        """Class labels ``(n,)``: ``class_id`` everywhere, or classes in turn ``0, 1, .., K-1, 0, ..``;
        None for an unconditional generator."""
        k = self.num_classes
        if class_id is not None:
            if not k:
                raise ConfigError("--class needs a conditional model; this exported generator is unconditional")
            if not 0 <= class_id < k:
                raise ConfigError(f"--class must be in [0, {k - 1}], got {class_id}")
            return torch.full((n,), class_id, dtype=torch.long)
        return torch.arange(n) % k if k else None

    @torch.no_grad()
    def sample(self, n: int, seed: int, class_id: int | None = None) -> torch.Tensor:
        """``n`` samples ``(n, *sample_shape)`` from latents drawn with ``seed`` (global RNG untouched),
        in eval mode; images in [-1, 1] (``to_pixels`` maps them to uint8)."""
        if n < 1:
            raise ConfigError(f"--n must be >= 1, got {n}")
        device = next(self.parameters()).device
        z = self.latent(n, torch.Generator().manual_seed(seed)).to(device)  # (n, z_dim)
        c = self.labels(n, class_id)
        mode = self.training
        self.eval()
        try:
            return self(z, c.to(device) if c is not None else None).float()  # (n, *sample_shape)
        finally:
            self.train(mode)

    @staticmethod
    def to_pixels(x: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] to uint8 pixels: ``round(clamp((x + 1) / 2, 0, 1) · 255)``."""
        return ((x.clamp(-1, 1) + 1) / 2 * 255).round().to(torch.uint8)


def _positive_ints(value: Any, what: str, path: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, int) and v > 0 for v in value):
        raise CheckpointError(f"{path}: {what} must be a list of positive integers, got {value!r}")
    return tuple(value)


def read_model_json(export_dir: str) -> dict[str, Any]:
    """``model.json`` of ``export_dir``, its format checked (``CheckpointError`` in one line)."""
    if not os.path.isdir(export_dir):
        raise CheckpointError(f"exported model directory not found: {export_dir}")
    path = os.path.join(export_dir, MODEL_NAME)
    try:
        with open(path, encoding="utf-8") as fh:
            info = json.load(fh)
    except FileNotFoundError:
        raise CheckpointError(f"{path} not found: is {export_dir} a model written by `gankit export`?") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gankit model card (format {FORMAT!r} expected)")
    if info.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path} has format_version {info.get('format_version')!r}; this gankit reads "
                              f"{FORMAT_VERSION}")
    try:
        z_dim, k = info["latent"]["z_dim"], info["classes"]["num_classes"]
        net = info["net_spec"]
        for table in ("model", "net_spec", "latent", "classes"):
            if not isinstance(info[table], dict):
                raise TypeError(f"{table} is not a table")
        if not isinstance(info.get("modes") or {}, dict) or not isinstance(info["classes"].get("names", []), list):
            raise TypeError("modes is not a table or classes.names not a list")
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: incomplete model description (missing {exc})") from None
    _positive_ints(info.get("sample_shape"), "sample_shape", path)
    _positive_ints(net.get("sample_shape"), "net_spec.sample_shape", path)
    _positive_ints([z_dim], "latent.z_dim", path)
    if not isinstance(k, int) or k < 0 or not isinstance(net.get("num_classes"), int):
        raise CheckpointError(f"{path}: classes.num_classes must be an integer >= 0, got {k!r}")
    if info["latent"].get("prior") != "normal":
        raise CheckpointError(f"{path}: latent prior {info['latent'].get('prior')!r} is not one this gankit draws "
                              "(normal)")
    return info


def load_generator(export_dir: str, device: str = "cpu") -> ExportedGenerator:
    """The generator of a model written by ``gankit export``: rebuilt from ``model.json`` through
    the network registry (``model_config``, ``build_networks``), weights loaded strictly from
    ``generator.safetensors``, in eval mode on ``device``. A tampered ``model.json`` (unknown
    family, shapes the weights do not fit), weights of another architecture or a missing file:
    ``CheckpointError`` in one line.

    >>> G = load_generator("exports/mnist")           # doctest: +SKIP
    >>> x = G.sample(16, seed=0, class_id=3)          # (16, 1, 28, 28) in [-1, 1]
    """
    info = read_model_json(export_dir)
    path = os.path.join(export_dir, MODEL_NAME)
    net = info["net_spec"]
    try:
        cfg = model_config(**info["model"])
        spec = NetSpec(tuple(net["sample_shape"]), int(net["num_classes"]), pack=int(net.get("pack", 1)))
        G, _ = build_networks(cfg, spec)
    except (ConfigError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot rebuild the generator ({exc})") from None
    weights = os.path.join(export_dir, WEIGHTS_NAME)
    if not os.path.isfile(weights):
        raise CheckpointError(f"{weights} not found: the exported model is incomplete")
    try:
        tensors = load_file(weights)  # safetensors: tensors only, never a pickle
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{weights} is not a readable safetensors file ({exc})") from None
    expected = G.state_dict()
    missing, unexpected = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    if missing or unexpected:
        what = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
        raise CheckpointError(f"{weights} does not fit the {cfg.arch} generator of {MODEL_NAME} ({what}): "
                              "weights of another architecture?")
    for key, value in expected.items():
        if tensors[key].shape != value.shape:
            raise CheckpointError(f"{weights} does not fit the {cfg.arch} generator of {MODEL_NAME}: {key} has shape "
                                  f"{tuple(tensors[key].shape)}, the network {tuple(value.shape)}")
    bad = first_non_finite(tensors)
    if bad is not None:
        raise CheckpointError(f"{weights}: {bad} holds NaN or Inf values")
    G.load_state_dict(tensors)
    model = ExportedGenerator(G, info).eval()
    probe = model.sample(1, 0, 0 if model.num_classes else None)  # (1, *shape)
    if tuple(probe.shape[1:]) != model.sample_shape:
        raise CheckpointError(f"{path}: the generator makes samples of shape {tuple(probe.shape[1:])}, "
                              f"model.json says {model.sample_shape}")
    return model.to(device)
