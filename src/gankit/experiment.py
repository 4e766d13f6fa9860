"""An experiment's config parsed against what is registered: the recipes' ``[recipe]``
classes and the network families' ``[model]`` classes.

``gankit.config`` knows only the fixed sections; this module hands it the registries
(``Schema``) and each recipe's cross-section check, so ``--dry-run`` refuses what the chosen
recipe cannot train before anything is built.
"""

from __future__ import annotations

from typing import Any

from gankit.config import ExperimentConfig, Schema, config_from_tree
from gankit.nets import model_config_class
from gankit.recipes import RECIPES


def _recipe_config(name: str) -> type:
    return RECIPES.get(name).config_class


def _check(cfg: ExperimentConfig) -> None:
    RECIPES.get(cfg.recipe.name).check_config(cfg)


SCHEMA = Schema(recipe_config=_recipe_config, model_config=model_config_class, check=_check)


def config_from_dict(tree: dict[str, Any]) -> ExperimentConfig:
    """Build an ``ExperimentConfig`` from a nested dict (a parsed preset or config.json).
    Unknown keys, wrong types and invalid choices, in any section, raise ``ConfigError``."""
    return config_from_tree(tree, SCHEMA)
