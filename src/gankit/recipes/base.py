"""What a recipe is: the networks of one GAN variant, its phases, and the maths of each.

The trainer knows no GAN maths and a recipe knows no optimizer steps.
A recipe builds its modules, declares its phases and optimizers, and computes losses in
``accumulate_gradients``, calling ``ctx.backward(loss)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping

import torch
from torch import nn

from gankit.config import ExperimentConfig
from gankit.data.base import FieldSpec
from gankit.errors import ConfigError
from gankit.nets.registry import d_scores
from gankit.recipes.capabilities import Capabilities
from gankit.registry import Registry
from gankit.train.loader import Batch
from gankit.train.phases import Phase


@dataclass(frozen=True)
class OptimizerSpec:
    modules: tuple[str, ...]  # recipe modules whose parameters this optimizer owns
    lr: float


@dataclass
class StepContext:
    """What the trainer hands a recipe for one phase update."""

    step: int
    report: Callable[[str, torch.Tensor | float], None]
    backward: Callable[[torch.Tensor], None]


@dataclass(frozen=True)
class DataInfo:
    """What a recipe may know about the data."""

    sample_shape: tuple[int, ...]
    num_classes: int
    num_examples: int = 0  # size of the training set (0 when sampling a saved run)
    # the training examples themselves, for recipes that need more than batches (a labelled
    # subset for semi-supervised learning); None when sampling a saved run
    train_set: Any = None
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)  # every field's shape, dtype and group
    meta: Mapping[str, Any] = field(default_factory=dict)  # the dataset's JSON-able extras (vocabulary, schema)


class PretrainingOnlyWarning(UserWarning):
    """``train.steps`` ends inside a recipe's pre-training: the run never trains G."""


def warn_if_only_pretraining(cfg: ExperimentConfig, data: DataInfo, pretrain_steps: int, what: str) -> None:
    """Warn when a training run (not the sampling of a saved one) has ``train.steps <=
    recipe.pretrain_steps``: legitimate (e.g. before a resume with more steps), but easy to do by mistake."""
    if data.num_examples and 0 < cfg.train.steps <= pretrain_steps:
        warnings.warn(
            f"train.steps={cfg.train.steps} <= recipe.pretrain_steps={pretrain_steps}: this run only pre-trains "
            f"{what} and never updates G; raise train.steps (or resume with more) to train the GAN",
            PretrainingOnlyWarning,
            stacklevel=3,
        )


class Recipe(Capabilities):
    """Base class; subclasses register with ``@RECIPES.register(name, description)``."""

    config_class: ClassVar[type]
    ema_modules: ClassVar[tuple[str, ...]] = ("G",)  # modules whose EMA is used for sampling
    # how the recipe reads D's output: "logits" (higher = more real), "energy" (lower = more
    # real: an autoencoder D), or None when it uses no discriminator of model.d_arch
    d_scores: ClassVar[str | None] = "logits"
    d_arch: ClassVar[str | None] = None  # the discriminator architecture the recipe needs (None: any)
    # the one network family the recipe builds and what it trains, e.g. ("lstm", "token sequences"); None: any
    model_arch: ClassVar[tuple[str, str] | None] = None
    data_fields: ClassVar[tuple[str, ...]] = ("x",)  # the batch fields its phases read
    target_field: ClassVar[str] = "x"  # the field whose distribution G learns (real side of grids and plots)

    @classmethod
    def check_data(cls, cfg: ExperimentConfig, data: DataInfo) -> None:
        """Refuse data that lacks a field the recipe reads (an image-to-image pair for a GAN that
        samples from noise): one line naming the fields the dataset has. A saved run's
        ``DataInfo`` from before named fields has none, and is accepted."""
        wanted = dict.fromkeys((*cls.data_fields, cls.target_field))
        missing = [name for name in wanted if data.fields and name not in data.fields]
        if missing:
            raise ConfigError(
                f"recipe {cfg.recipe.name} trains on the batch field {missing[0]!r}, which the data does not have "
                f"(its fields: {', '.join(sorted(data.fields))})"
            )

    @classmethod
    def check_config(cls, cfg: ExperimentConfig) -> None:
        """Refuse, when the config is parsed, what the recipe cannot train: a discriminator
        architecture other than the one it needs (its heads live on the family's own D), or
        one whose output means something else than the recipe reads (an energy D under a
        loss over logits would silently train G towards the worst samples)."""
        if cls.model_arch is not None and cfg.model.arch != cls.model_arch[0]:
            arch, what = cls.model_arch
            raise ConfigError(f"recipe {cfg.recipe.name} trains {what}: set model.arch={arch} (got {cfg.model.arch!r})")
        if cls.d_arch is not None and cfg.model.d_arch != cls.d_arch:
            raise ConfigError(
                f"recipe {cfg.recipe.name} needs model.d_arch={cls.d_arch} (got {cfg.model.d_arch!r}); "
                f"set model.d_arch={cls.d_arch}"
            )
        if cls.d_scores is None:
            return
        scores = d_scores(cfg.model)
        if scores != cls.d_scores:
            raise ConfigError(
                f"recipe {cfg.recipe.name} reads D's output as {cls.d_scores}, but model.d_arch={cfg.model.d_arch} "
                f"outputs {scores} ({'lower' if scores == 'energy' else 'higher'} = more real); choose another "
                f"model.d_arch or a recipe for that D"
            )

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        self.check_config(cfg)
        self.check_data(cfg, data)
        self.cfg = cfg
        self.data = data
        self.modules = nn.ModuleDict()

    def ema_decays(self) -> dict[str, float]:
        """The modules that keep an exponential moving average of their weights, each with
        its decay β: ``ema_modules`` with ``train.ema_decay`` (none when that is 0). A recipe
        may add modules with decays of its own (``ssgan`` averages its classifier D)."""
        decay = self.cfg.train.ema_decay
        return {name: decay for name in self.ema_modules} if decay > 0 else {}

    # -- declared by each recipe
    def phases(self) -> list[Phase]:
        raise NotImplementedError

    def optimizers(self) -> dict[str, OptimizerSpec]:
        raise NotImplementedError

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        raise NotImplementedError

    def after_step(self, phase: str) -> None:
        """Hook after an optimizer step of ``phase`` (e.g. weight clipping)."""

    # -- sampling (used by the trainer's grids and by `gankit sample`)
    @property
    def z_dim(self) -> int:
        raise NotImplementedError

    @property
    def num_classes(self) -> int:
        """Classes the generator is conditioned on (0 = unconditional)."""
        return 0

    def latent(
        self, n: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
    ) -> torch.Tensor:
        """Draw ``n`` generator inputs: latent vectors z ~ N(0, I), shape (n, z_dim). The trainer's
        sample grids and BatchNorm re-estimation use this and ``generate``; a recipe whose G
        starts from data (image translation) overrides both, drawing its inputs from
        ``self.data.train_set`` with ``generator``."""
        z = torch.randn(n, self.z_dim, generator=generator)
        return z.to(device)

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Samples from latents ``z`` using ``nets`` (the EMA copies or the live modules)."""
        raise NotImplementedError

    def encode(self, nets: Mapping[str, nn.Module], x: torch.Tensor) -> torch.Tensor:
        """Latent code of data ``x`` (the posterior mean for a VAE), shape (n, z_dim); only
        recipes with an encoder (VAE, VAE-GAN, MRGAN) have one."""
        raise ConfigError(f"recipe {self.cfg.recipe.name!r} has no encoder (reconstructions need one)")

    @property
    def has_encoder(self) -> bool:
        return type(self).encode is not Recipe.encode

    @torch.no_grad()
    def sample(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """``generate`` in eval mode without gradients; training modes are restored after."""
        modes = {name: m.training for name, m in nets.items()}
        for m in nets.values():
            m.eval()
        try:
            return self.generate(nets, z, c).float()
        finally:
            for name, m in nets.items():
                m.train(modes[name])

    def sample_grid(
        self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, int | None]:
        """What a run's sample grid shows for latents ``z``, and its row length (None: the grid's
        default): ``sample(nets, z, c)``; a translation recipe lays out input | output | target rows."""
        return self.sample(nets, z, c), None

    # -- recipe-level state beyond parameters: small JSON-able values (e.g. BEGAN's k_t) and
    # tensors too large for JSON (selfcond's cluster of every training example), which checkpoints
    # keep as safetensors under ``recipe/<name>``. ``load_state_tensors`` runs after ``load_state_dict``.
    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {}

    def load_state_tensors(self, tensors: Mapping[str, torch.Tensor]) -> None:
        pass


RECIPES: Registry[type[Recipe]] = Registry("recipe")
