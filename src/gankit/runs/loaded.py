"""A trained run loaded for sampling: its recipe's networks, their averages, and the tools
that draw from them (samples, class grids, traversals, pairs, reconstructions, DRS)."""

from __future__ import annotations

import contextlib
import copy
import os
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

import torch
from torch import nn

from gankit.config import DataConfig, ExperimentConfig, build_dataclass, to_dict
from gankit.data.base import Dataset, FieldSpec, build_dataset
from gankit.errors import CheckpointError, ConfigError, DataError
from gankit.experiment import config_from_dict
from gankit.latent import lerp, slerp
from gankit.recipes import RECIPES, DataInfo, Recipe
from gankit.rejection import check_drs_recipe, gan_rejection_sampler
from gankit.runs.files import checkpoint_meta
from gankit.train import checkpoint as ckpt
from gankit.train.threads import run_threads
from gankit.train.trainer import amp_dtype, resolve_device

CALIBRATION_EXAMPLES = 8000  # held-out examples that calibrate D for rejection sampling


@dataclass
class LoadedRun:
    """A trained model ready to sample: recipe modules and their EMA copies."""

    cfg: ExperimentConfig
    recipe: Recipe
    ema: dict[str, nn.Module]
    step: int
    data: dict[str, Any]
    device: torch.device

    def nets(self, use_ema: bool = True) -> dict[str, nn.Module]:
        nets = dict(self.recipe.modules.items())
        if use_ema:
            nets.update(self.ema)
        return nets

    @property
    def is_image(self) -> bool:
        return len(self.data["sample_shape"]) == 3

    def labels(self, n: int, class_id: int | None = None) -> torch.Tensor | None:
        k = self.recipe.num_classes
        if class_id is not None:
            if not k:
                raise ConfigError("--class needs a conditional model (model.conditional=true)")
            if not 0 <= class_id < k:
                raise ConfigError(f"--class must be in [0, {k - 1}], got {class_id}")
            return torch.full((n,), class_id, dtype=torch.long, device=self.device)
        return torch.arange(n, device=self.device) % k if k else None

    def sample(self, n: int, seed: int, class_id: int | None = None, use_ema: bool = True) -> torch.Tensor:
        """``n`` samples from latents drawn with ``seed`` (independent of global RNG)."""
        if n < 1:
            raise ConfigError(f"--n must be >= 1, got {n}")
        z = self.recipe.latent(n, torch.Generator().manual_seed(seed), self.device)  # (n, z_dim)
        return self.recipe.sample(self.nets(use_ema), z, self.labels(n, class_id))

    def interpolate(
        self, rows: int, steps: int, seed: int, spherical: bool = False, use_ema: bool = True
    ) -> torch.Tensor:
        """``rows`` paths of ``steps`` samples between random latent pairs: (rows·steps, ...)."""
        if steps < 2 or rows < 1:
            raise ConfigError(f"interpolation needs --steps >= 2 and --rows >= 1, got {steps} and {rows}")
        gen = torch.Generator().manual_seed(seed)
        z0 = self.recipe.latent(rows, gen)  # (rows, z_dim)
        z1 = self.recipe.latent(rows, gen)
        t = torch.linspace(0.0, 1.0, steps)
        path = (slerp if spherical else lerp)(z0, z1, t).reshape(rows * steps, -1)  # (rows·steps, z_dim)
        c = self.labels(rows)
        c = c.repeat_interleave(steps) if c is not None else None
        return self.recipe.sample(self.nets(use_ema), path.to(self.device), c)


    # -- grids over classes and codes
    def class_grid(self, seeds: int, seed: int, use_ema: bool = True) -> torch.Tensor:
        """A class × seed grid ``(K · seeds, ...)``, row-major: row ``r`` is class ``r`` of a
        conditional model (or value ``r`` of an InfoGAN run's categorical code), column ``j``
        the latent ``recipe.latent(seeds, seed)[j]`` in every row, so cell ``(r, j)`` is
        ``sample(seeds, seed, class_id=r)[j]``."""
        if seeds < 1:
            raise ConfigError(f"--seeds must be >= 1, got {seeds}")
        k = self.recipe.num_classes
        if k:
            z = self.recipe.latent(seeds, torch.Generator().manual_seed(seed), self.device)  # (seeds, z_dim)
            c = torch.arange(k, device=self.device).repeat_interleave(seeds)  # (K·seeds,)
            return self.recipe.sample(self.nets(use_ema), z.repeat(k, 1), c)
        k = self.recipe.categorical_code
        if k:
            z = self.recipe.traversal_latents(0, range(k), seed, rows=seeds)  # (seeds·K, z_dim): seed-major
            z = z.reshape(seeds, k, -1).transpose(0, 1).reshape(k * seeds, -1)  # (K·seeds, z_dim): class-major
            return self.recipe.sample(self.nets(use_ema), z.to(self.device))
        raise ConfigError(
            f"--class-grid needs a conditional model (model.conditional=true) or an infogan run with a categorical "
            f"code; recipe {self.cfg.recipe.name!r} here is unconditional"
        )

    def traverse(self, code_index: int, values: Sequence[float] | None = None, rows: int = 1, seed: int = 0,
                 use_ema: bool = True) -> torch.Tensor:
        """Latent traversal ``(rows · V, ...)`` of code ``code_index`` over ``values`` (default
        ``Recipe.traversal_values``: for InfoGAN every class of the categorical code, or 7 points
        over [-1, 1]), noise and the other codes fixed per row; row-major, so a grid of ``V``
        columns shows one row per fixed draw."""
        if values is None:
            values = self.recipe.traversal_values(code_index)
        z = self.recipe.traversal_latents(code_index, values, seed, rows)  # (rows·V, z_dim)
        return self.recipe.sample(self.nets(use_ema), z.to(self.device))

    # -- two-domain recipes (``Recipe.sample_pair``: CoGAN)
    def pairs(self, n: int, seed: int, use_ema: bool = True, batch: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` corresponding pairs ``(G_A(z), G_B(z))``, each ``(n, *sample_shape)``, from
        latents drawn with ``seed`` and sampled ``batch`` at a time (eval mode, so the batching
        does not change them)."""
        if n < 1:
            raise ConfigError(f"--n must be >= 1, got {n}")
        z = self.recipe.latent(n, torch.Generator().manual_seed(seed), self.device)  # (n, z_dim)
        nets = self.nets(use_ema)
        pairs = [self.recipe.sample_pair(nets, chunk) for chunk in z.split(batch)]
        return torch.cat([a for a, _ in pairs]), torch.cat([b for _, b in pairs])  # (n, *sample_shape) each

    def pair_grid(self, n: int, seed: int, use_ema: bool = True) -> torch.Tensor:
        """``n`` pairs (``pairs``) interleaved ``[A_0, B_0, A_1, B_1, ...]``: ``(2n, *sample_shape)``
        (an even ``nrow`` puts each pair side by side)."""
        xa, xb = self.pairs(n, seed, use_ema)  # (n, *sample_shape) each
        return torch.stack((xa, xb), dim=1).reshape(2 * n, *xa.shape[1:])  # (2n, *sample_shape)

    # -- encoder tools (recipes with ``Recipe.encode``: VAE, VAE-GAN, MRGAN)
    def require_encoder(self) -> None:
        if not self.recipe.has_encoder:
            raise ConfigError(
                f"recipe {self.cfg.recipe.name!r} has no encoder; reconstructions and interpolation between "
                "real examples need one (e.g. mrgan)"
            )

    def dataset(self, split: str = "test", data_dir: str | None = None) -> Dataset:
        """``split`` of the run's dataset, all of it: its data config with ``split``, no
        ``limit`` and, if given, ``path = data_dir``."""
        table = {**to_dict(self.cfg.data), "split": split, "limit": 0, **({"path": data_dir} if data_dir else {})}
        return build_dataset(build_dataclass(DataConfig, table, "data"))  # checks split like any config

    def real_examples(self, indices: Sequence[int], split: str = "test", data_dir: str | None = None) -> torch.Tensor:
        """Examples ``indices`` ``(n, ...)`` of ``split`` of the run's dataset (``dataset``), on
        the run's device."""
        ds = self.dataset(split, data_dir)
        bad = [i for i in indices if not 0 <= i < len(ds)]
        if bad:
            raise ConfigError(f"example index {bad[0]} is out of range: the {split} split has {len(ds)} examples")
        return ds.x[torch.as_tensor(list(indices), dtype=torch.long)].to(self.device)

    def rejection_sample(self, n: int, seed: int, percentile: float | None = 95.0, partners: int = 4,
                         split: str = "test", data_dir: str | None = None, calibration: int = CALIBRATION_EXAMPLES,
                         use_ema: bool = True) -> tuple[torch.Tensor, dict[str, float]]:
        """``n`` samples by discriminator rejection sampling (``gankit.rejection``, Azadi et al.
        2019), D calibrated on up to ``calibration`` random examples of ``split``; with the
        sampler's acceptance rate, log-ratio envelope and gamma."""
        if n < 1:
            raise ConfigError(f"--n must be >= 1, got {n}")
        check_drs_recipe(self.recipe)  # before loading calibration data
        gen = torch.Generator().manual_seed(seed)
        ds = self.dataset(split, data_dir)
        pack = getattr(self.recipe, "pack", 1)
        m = min(len(ds), calibration) // pack * pack  # whole packs
        real = ds.x[torch.randperm(len(ds), generator=gen)[:m]]
        amp = amp_dtype(self.device) if self.cfg.train.amp else None
        sampler = gan_rejection_sampler(self.recipe, self.nets(use_ema), real, percentile, partners, gen, amp_dtype=amp)
        return sampler.sample(n, gen)

    def encode(self, x: torch.Tensor, use_ema: bool = True) -> torch.Tensor:
        """``E(x)`` ``(n, z_dim)`` by ``Recipe.encode``, in eval mode without gradients."""
        self.require_encoder()
        nets = self.nets(use_ema)
        with _eval_mode(nets):
            return self.recipe.encode(nets, x.to(self.device)).float()

    def reconstruct(self, x: torch.Tensor, use_ema: bool = True) -> torch.Tensor:
        """Reconstructions ``G(E(x))``, the shape of ``x``."""
        return self.recipe.sample(self.nets(use_ema), self.encode(x, use_ema))

    def reconstructions(self, n: int = 16, split: str = "test", data_dir: str | None = None,
                        use_ema: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``n`` examples ``x`` of ``split`` and their reconstructions ``G(E(x))``."""
        self.require_encoder()
        if n < 1:
            raise ConfigError(f"--n must be >= 1, got {n}")
        x = self.real_examples(range(n), split, data_dir)  # (n, ...)
        return x, self.reconstruct(x, use_ema)

    def interpolate_real(self, a: int, b: int, steps: int, split: str = "test", spherical: bool = False,
                         data_dir: str | None = None, use_ema: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Examples ``a`` and ``b`` of ``split`` ``(2, ...)`` and ``steps`` samples
        ``G(path(t))``, ``t = 0 .. 1``, along the lerp/slerp path from ``z_a = E(x_a)`` to
        ``z_b = E(x_b)``: the first is ``G(E(x_a))``, the last ``G(E(x_b))``."""
        self.require_encoder()
        if steps < 2:
            raise ConfigError(f"interpolation needs --steps >= 2, got {steps}")
        x = self.real_examples([a, b], split, data_dir)  # (2, ...)
        z = self.encode(x, use_ema)  # (2, z_dim)
        path = (slerp if spherical else lerp)(z[0], z[1], torch.linspace(0.0, 1.0, steps, device=z.device))
        return x, self.recipe.sample(self.nets(use_ema), path)  # (steps, ...)


@contextlib.contextmanager
def _eval_mode(nets: Mapping[str, nn.Module]) -> Iterator[None]:
    """``nets`` in eval mode without gradients; their training modes are restored after."""
    modes = {name: m.training for name, m in nets.items()}
    for m in nets.values():
        m.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for name, m in nets.items():
            m.train(modes[name])


def load_run(run_dir: str, device: str = "cpu") -> LoadedRun:
    """Load a run's networks (and EMA copies) from its checkpoint for sampling."""
    tensors, meta = checkpoint_meta(run_dir)
    path = os.path.join(run_dir, ckpt.CHECKPOINT_NAME)
    try:
        cfg = config_from_dict(meta["config"])
        data = meta["data"]
        fields = {name: FieldSpec.from_json(spec) for name, spec in data.get("fields", {}).items()}
        info = DataInfo(tuple(data["sample_shape"]), int(data["num_classes"]), fields=fields, meta=data.get("meta", {}))
    except (KeyError, TypeError, DataError) as exc:
        raise CheckpointError(f"{path}: incomplete metadata ({exc})") from None
    dev = resolve_device(device)
    recipe = RECIPES.get(cfg.recipe.name)(cfg, info)
    recipe.modules.to(dev)
    run_threads(cfg.train.threads, recipe.modules, cfg.train.batch_size, info.sample_shape)  # the training count
    ckpt.load_module_tensors("modules", recipe.modules, tensors, path)
    ckpt.load_recipe_state(recipe, meta, tensors, path)  # what a sampler may need (selfcond's cluster sizes)
    # the averaged modules the checkpoint holds (one written before a recipe averaged a module has none of it)
    saved = [name for name in recipe.ema_decays() if any(k.startswith(f"ema/{name}/") for k in tensors)]
    ema = {name: copy.deepcopy(recipe.modules[name]) for name in saved}
    ckpt.load_module_tensors("ema", ema, tensors, path)
    return LoadedRun(cfg, recipe, ema, int(meta["step"]), data, dev)


