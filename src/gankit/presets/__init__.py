"""Named, runnable experiments shipped as TOML files beside this module."""

from __future__ import annotations

import os
from importlib import resources
from typing import Any

from gankit.config import ExperimentConfig, apply_overrides, load_toml
from gankit.errors import ConfigError
from gankit.experiment import config_from_dict

DEFAULT_PRESET = "digits-dcgan"


def _preset_dir() -> str:
    return str(resources.files(__name__))


def preset_names() -> list[str]:
    return sorted(f[: -len(".toml")] for f in os.listdir(_preset_dir()) if f.endswith(".toml"))


def preset_path(name: str) -> str:
    """A preset name, or a path to a TOML file of the same shape."""
    if name.endswith(".toml"):
        if not os.path.isfile(name):
            raise ConfigError(f"config file not found: {name}")
        return name
    path = os.path.join(_preset_dir(), f"{name}.toml")
    if not os.path.isfile(path):
        raise ConfigError(f"unknown preset {name!r} (known: {', '.join(preset_names())})")
    return path


def preset_tree(name: str) -> dict[str, Any]:
    tree = load_toml(preset_path(name))
    tree.setdefault("name", os.path.basename(name)[:-5] if name.endswith(".toml") else name)
    return tree


def load_preset(name: str = DEFAULT_PRESET, overrides: list[str] | None = None) -> ExperimentConfig:
    """The typed config of preset ``name`` with ``section.key=value`` overrides applied."""
    return config_from_dict(apply_overrides(preset_tree(name), overrides or []))


def describe_presets() -> list[tuple[str, str]]:
    return [(name, str(preset_tree(name).get("description", ""))) for name in preset_names()]
