"""gankit: build, train, evaluate, visualise and compare GANs (PyTorch, CPU-friendly).

>>> from gankit import load_preset, train
>>> cfg = load_preset("ring-gan", ["train.steps=200"])   # doctest: +SKIP
>>> result = train(cfg)                                    # doctest: +SKIP
"""

from gankit import openmp_wait  # noqa: F401  first: bounds OpenMP spinning before torch loads

# isort: split

from gankit.config import DataConfig, ExperimentConfig, OptimConfig, TrainConfig
from gankit.data import DATASETS, Dataset, build_dataset
from gankit.errors import CheckpointError, ConfigError, DataError, GankitError, MetricError, ShapeError
from gankit.latent import lerp, slerp
from gankit.losses import LOSSES
from gankit.nets import NETWORKS, DOutput, ModelConfig, build_networks, model_config
from gankit.presets import load_preset, preset_names
from gankit.recipes import RECIPES, Recipe
from gankit.runs import LoadedRun, load_run, resume, train
from gankit.runs.exported import load_generator
from gankit.train.phases import Phase
from gankit.train.trainer import Trainer

__version__ = "0.1.0"

__all__ = [
    "CheckpointError", "ConfigError", "DATASETS", "DOutput", "DataConfig", "DataError", "Dataset",
    "ExperimentConfig", "GankitError", "LOSSES", "LoadedRun", "MetricError", "ModelConfig", "NETWORKS",
    "OptimConfig", "Phase", "RECIPES", "Recipe", "ShapeError", "TrainConfig", "Trainer", "build_dataset",
    "build_networks", "lerp", "model_config", "load_generator", "load_preset", "load_run", "preset_names", "resume",
    "slerp", "train",
]
