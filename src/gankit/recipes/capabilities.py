"""What a recipe may declare beyond training: the CLI and runs ask a recipe for these, never for
its class (only ``recipes/`` knows a paper). Each default says "not this recipe" in one
``ConfigError`` line, or returns the neutral value."""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Sequence

import torch
from torch import nn

from gankit.errors import ConfigError


class Capabilities:
    """Mixed into ``Recipe``; ``self.cfg`` is the recipe's config and ``latent`` its draw of
    generator inputs."""

    supports_rejection_sampling: ClassVar[bool] = False  # one real/fake D whose logits DRS can calibrate
    table_samples: ClassVar[bool] = False  # samples are table rows (``sample_table``; CSV, table metrics)
    # trains on several processes exactly as on one (every random draw over a batch made at the global size)
    data_parallel: ClassVar[bool] = False

    @classmethod
    def data_parallel_refusals(cls, cfg: Any, local_batch: int) -> list[str]:
        """Why config ``cfg`` of a ``data_parallel`` recipe cannot be split into shares of
        ``local_batch`` rows (a batch-wide statistic, state learnt from one share); empty when it can."""
        return []

    @property
    def categorical_code(self) -> int:
        """Values of a categorical latent code that a class grid can run over (InfoGAN); 0 = none."""
        return 0

    def latent_and_code(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``latent(n, generator)`` and the categorical code ``(n,)`` int64 each latent carries
        (InfoGAN; None for recipes without one), from the same draw."""
        return self.latent(n, generator), None

    def traversal_values(self, code_index: int) -> list[float]:
        """Default values of a traversal of latent code ``code_index`` (recipes with latent codes)."""
        raise ConfigError(f"latent traversals need a run with latent codes (infogan, ss-infogan), "
                          f"got recipe {self.cfg.recipe.name!r}")

    def traversal_latents(self, code_index: int, values: Sequence[float], seed: int, rows: int = 1) -> torch.Tensor:
        """Latents ``(rows · len(values), z_dim)`` with code ``code_index`` set to each of ``values``
        and everything else fixed per row (recipes with latent codes)."""
        raise ConfigError(f"latent traversals need a run with latent codes (infogan, ss-infogan), "
                          f"got recipe {self.cfg.recipe.name!r}")

    def sample_pair(self, nets: Mapping[str, nn.Module], z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Corresponding samples of two domains from the same latents (coupled GANs)."""
        raise ConfigError(
            f"domain pairs need a run of a two-domain recipe (cogan), got recipe {self.cfg.recipe.name!r}"
        )

    def exportable_generator(self) -> tuple[str, tuple[str, ...]] | None:
        """The module a shared model (``gankit export``) holds and its inputs, ``("G", ("z",))`` or
        ``("G", ("z", "c"))``, for a recipe whose samples are that module of noise ``latent``
        (z ~ N(0, I)) alone; None (the default): the recipe does not export (translation recipes)."""
        return None

    translation_directions: ClassVar[tuple[str, ...]] = ()  # image-to-image recipes: "ab" (and "ba" both ways)

    def translate(self, nets: Mapping[str, nn.Module], x: torch.Tensor, direction: str = "ab") -> torch.Tensor:
        """Source images ``x`` ``(n, C, H, W)`` translated by ``nets`` in ``direction`` (one of
        ``translation_directions``); image-to-image recipes only (pix2pix, pan, cyclegan)."""
        raise ConfigError(f"translation needs a run of an image-to-image recipe, got recipe {self.cfg.recipe.name!r}")

    def sample_table(self, nets: Mapping[str, nn.Module], n: int, seed: int,
                     condition: tuple[str, str] | None = None) -> dict[str, list]:
        """``n`` rows ``{column: values}`` of a table recipe, optionally conditioned on
        ``(column, value)`` of a categorical column (tabgan)."""
        raise ConfigError(f"table samples (.csv) need a run of a table recipe (tabgan), got recipe "
                          f"{self.cfg.recipe.name!r}")
