"""Recipe ``tabgan``: a conditional tabular GAN in the style of CTGAN (Xu, Skoularidou,
Cuesta-Infante & Veeramachaneni, "Modeling Tabular Data using Conditional GAN", NeurIPS 2019).

* Rows are encoded by mode-specific normalisation (``gankit.data.table_transform``): per
  continuous column ``α ∈ [−1, 1]`` and the one-hot of its Gaussian-mixture mode; categorical
  columns one-hot. G's raw outputs become rows by ``tanh`` for ``α`` and Gumbel-softmax
  (temperature ``gumbel_tau`` = 0.2, ``torch.nn.functional.gumbel_softmax``) for each one-hot block.
* The conditional vector with training-by-sampling (``gankit.recipes.table_conditions``): G
  gets ``z ⊕ cond``, D sees ``row ⊕ cond``, real rows are drawn to match ``cond`` and the real
  pairs are shuffled against the fake ones; G's loss adds the cross-entropy of its logits of
  the conditioned column against the condition.
* WGAN-GP with PacGAN: D judges ``pack`` = 10 rows at once, ``L_D = E[D(fake)] − E[D(real)] +
  λ E[(||∇D(x̂)||₂ − 1)²]`` (λ = ``gp_weight`` = 10, x̂ interpolates packed inputs), ``L_G =
  −E[D(fake)] + CE``; CTGAN trains with Adam (lr 2e-4, betas (0.5, 0.9), weight decay 1e-6 on G).

Latents are ``z ⊕ cond ⊕ u``: the noise ``(z_dim,)``, a conditional vector drawn as CTGAN's
``sample`` (a uniform column, a log-frequency category) and uniforms ``(width,)`` whose
Gumbel noise ``−log(−log u)`` picks every mode and category (the Gumbel-max trick), so a sample
is a pure function of its latent. ``generate`` returns the continuous columns (the dataset's
encoding, ``target_field``); ``sample_table`` the whole table with its original column types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import ExperimentConfig
from gankit.data.table_transform import MAX_MODES, TableEncoder
from gankit.data.tables import CATEGORICAL, CONTINUOUS, decode_table, round_whole_numbers, whole_number_columns
from gankit.errors import ConfigError
from gankit.losses.penalties import gradient_penalty
from gankit.nets.base import pack_samples
from gankit.nets.tabular import PacDiscriminator, ResidualGenerator
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, Recipe, StepContext
from gankit.recipes.table_conditions import ConditionSampler, condition_cross_entropy
from gankit.train.loader import Batch
from gankit.train.phases import Phase

ENCODING_SEED_OFFSET = 7919  # seeds the per-row mode draws of the training rows' encoding
CONDITION_TRIES = 100  # conditioned sampling: batches of n draws before giving up


@dataclass(frozen=True)
class TabGANConfig:
    name: str = "tabgan"
    pack: int = 10  # PacGAN: rows per D input (CTGAN: pac=10); train.batch_size must be a multiple
    gp_weight: float = 10.0  # WGAN-GP λ
    d_steps: int = 1  # D updates per step (CTGAN: discriminator_steps=1)
    gumbel_tau: float = 0.2  # Gumbel-softmax temperature of G's one-hot blocks (CTGAN: 0.2)
    max_modes: int = MAX_MODES  # Gaussian-mixture modes per continuous column (CTGAN: 10)

    def validate(self) -> None:
        for key in ("pack", "d_steps", "max_modes"):
            if getattr(self, key) < 1:
                raise ConfigError(f"recipe.{key} must be >= 1, got {getattr(self, key)}")
        if self.gp_weight < 0:
            raise ConfigError(f"recipe.gp_weight must be >= 0, got {self.gp_weight}")
        if self.gumbel_tau <= 0:
            raise ConfigError(f"recipe.gumbel_tau must be > 0, got {self.gumbel_tau}")


def integer_columns(columns: list[dict[str, Any]], continuous: torch.Tensor) -> list[str]:
    """Continuous columns whose raw values (``decode_table``) are all whole numbers."""
    cont = [c for c in columns if c["type"] == CONTINUOUS]
    return whole_number_columns(decode_table(continuous, torch.zeros(len(continuous), 0, dtype=torch.long), cont), cont)


@RECIPES.register("tabgan", "CTGAN-style tabular GAN (Xu et al. 2019): mode-specific normalisation, conditional "
                  "vector, PacGAN WGAN-GP")
class TabGANRecipe(Recipe):
    config_class = TabGANConfig
    table_samples = True
    model_arch = ("tabular", "table rows")
    data_fields = ("continuous", "categorical")
    target_field = "continuous"

    @classmethod
    def check_config(cls, cfg: ExperimentConfig) -> None:
        if cfg.train.batch_size % cfg.recipe.pack:
            raise ConfigError(f"train.batch_size={cfg.train.batch_size} is not a multiple of recipe.pack="
                              f"{cfg.recipe.pack}")
        super().check_config(cfg)

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc: TabGANConfig = cfg.recipe
        columns = data.meta.get("columns")
        if not columns:
            raise ConfigError("recipe tabgan needs a table dataset (csv, diabetes, fair, anes96, table_dataset)")
        self.columns = [dict(c) for c in columns]
        if not any(c["type"] == CONTINUOUS for c in self.columns):
            raise ConfigError("recipe tabgan needs at least one continuous column")
        self.sizes = [len(c["categories"]) for c in self.columns if c["type"] == CATEGORICAL]
        self.rows: torch.Tensor | None = None  # the encoded training rows (N, width)
        self.train_continuous: torch.Tensor | None = None
        if data.train_set is not None:
            fields = data.train_set.groups["main"]
            self.train_continuous, ids = fields["continuous"], fields["categorical"]
            self.set_encoder(TableEncoder.fit(self.columns, self.train_continuous, cfg.train.seed, self.rc.max_modes))
            self.sampler = ConditionSampler.from_ids(ids, self.sizes)
            self.integers = integer_columns(self.columns, self.train_continuous)
        else:  # a saved run: the fitted state comes with load_state_dict
            self.set_encoder(TableEncoder(self.columns, None, self.rc.max_modes))
            self.sampler = ConditionSampler([torch.ones(k, dtype=torch.long) for k in self.sizes])
            self.integers = []
        m = cfg.model
        width, cond = self.encoder.width, self.sampler.width
        self.modules["G"] = ResidualGenerator(m.z_dim + cond, tuple(m.g_dims), width)
        self.modules["D"] = PacDiscriminator(width + cond, tuple(m.d_dims), self.rc.pack, m.d_dropout)

    def set_encoder(self, encoder: TableEncoder) -> None:
        """Use ``encoder`` (fitted) and re-encode the training rows with it (seeded mode draws)."""
        self.encoder = encoder
        self.mask = encoder.mode_mask()  # (width,) unused mode slots
        self.category_spans = [s for s in encoder.spans if s.kind == "category"]
        if self.train_continuous is not None:
            rng = np.random.default_rng(self.cfg.train.seed + ENCODING_SEED_OFFSET)
            ids = self.data.train_set.groups["main"]["categorical"]
            self.rows = encoder.encode(self.train_continuous, ids, rng)

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        return {"encoder": self.encoder.to_json(), "counts": [c.tolist() for c in self.sampler.counts],
                "integers": self.integers}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.set_encoder(TableEncoder.from_json(state["encoder"]))
        counts = [torch.tensor(c, dtype=torch.long) for c in state["counts"]]
        self.sampler = ConditionSampler(counts, self.sampler.ids)
        self.integers = list(state["integers"])

    # ------------------------------------------------------------------ G's outputs

    def activate(self, raw: torch.Tensor) -> torch.Tensor:
        """Rows ``(B, width)`` from G's raw outputs: ``tanh`` on α slots, Gumbel-softmax
        (``gumbel_tau``) on every one-hot block (unused mode slots masked to 0)."""
        logits = raw.masked_fill(self.mask.to(raw.device), float("-inf"))
        parts = []
        for s in self.encoder.spans:
            block = logits[:, s.start: s.start + s.width]
            parts.append(torch.tanh(block) if s.kind == "alpha" else F.gumbel_softmax(block, tau=self.rc.gumbel_tau))
        return torch.cat(parts, dim=1)

    def _fake(self, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Raw and activated fake rows, their conditions ``cond`` and the (column, category) drawn."""
        z = torch.randn(n, self.cfg.model.z_dim)
        column, category, rows = self._conditions(n)
        cond = self.sampler.one_hot(column, category).to(device)
        raw = self.modules["G"](torch.cat([z.to(device), cond], dim=1))
        return raw, self.activate(raw), cond, (column.to(device), category.to(device), rows)

    def _conditions(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.sampler.columns:
            return self.sampler.sample_training(n)
        empty = torch.zeros(n, dtype=torch.long)
        return empty, empty, torch.randint(self.rows.shape[0], (n,))

    def _critic(self, rows: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.modules["D"](pack_samples(torch.cat([rows, cond], dim=1), self.rc.pack))

    def phases(self) -> list[Phase]:
        return [Phase("D", ("D",), "D", repeats=self.rc.d_steps), Phase("G", ("G",), "G")]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        return {"D": OptimizerSpec(("D",), self.cfg.optim.lr_d), "G": OptimizerSpec(("G",), self.cfg.optim.lr_g)}

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        if self.rows is None:
            raise ConfigError("recipe tabgan trains only with its training rows")
        n = self.cfg.train.batch_size
        device = next(self.modules["G"].parameters()).device
        D = self.modules["D"]
        if phase == "D":
            with torch.no_grad():
                _, fake, cond, (_, _, rows) = self._fake(n, device)
            perm = torch.randperm(n)
            real = self.rows[rows[perm]].to(device)  # real rows of the shuffled conditions
            real_cond = cond[perm.to(device)]
            real_in = pack_samples(torch.cat([real, real_cond], dim=1), self.rc.pack)
            fake_in = pack_samples(torch.cat([fake, cond], dim=1), self.rc.pack)
            d_real, d_fake = D(real_in), D(fake_in)
            gp = gradient_penalty(D, real_in, fake_in)
            loss = d_fake.mean() - d_real.mean() + self.rc.gp_weight * gp
            ctx.report("Loss/D", loss)
            ctx.report("D/gp", gp)
            ctx.report("D/wasserstein", d_real.mean() - d_fake.mean())
        elif phase == "G":
            raw, fake, cond, (column, category, _) = self._fake(n, device)
            adversarial = -self._critic(fake, cond).mean()
            ce = (condition_cross_entropy([raw[:, s.start: s.start + s.width] for s in self.category_spans],
                                          column, category) if self.sampler.columns else raw.new_zeros(()))
            loss = adversarial + ce
            ctx.report("Loss/G", loss)
            ctx.report("G/condition_ce", ce)
        else:  # pragma: no cover - phases() declares only these
            raise ValueError(f"unknown phase {phase}")
        ctx.backward(loss)

    # ------------------------------------------------------------------ sampling

    @property
    def z_dim(self) -> int:
        return self.cfg.model.z_dim + self.sampler.width + self.encoder.width

    def latent(self, n: int, generator: torch.Generator | None = None,
               device: torch.device | str = "cpu") -> torch.Tensor:
        """``z ⊕ cond ⊕ u`` ``(n, z_dim + cond + width)``: noise, a drawn condition, Gumbel uniforms."""
        z = torch.randn(n, self.cfg.model.z_dim, generator=generator)
        cond = self.sampler.sample_original(n, generator) if self.sampler.columns else torch.zeros(n, 0)
        u = torch.rand(n, self.encoder.width, generator=generator)
        return torch.cat([z, cond, u], dim=1).to(device)

    def generate_rows(self, nets: Mapping[str, nn.Module], z: torch.Tensor) -> torch.Tensor:
        """Encoded rows ``(n, width)``: ``tanh`` α, and one-hots at ``argmax(logit + Gumbel(u))``."""
        k = self.cfg.model.z_dim + self.sampler.width
        raw = nets["G"](z[:, :k])
        u = z[:, k:].clamp(torch.finfo(z.dtype).tiny, 1.0 - torch.finfo(z.dtype).eps)
        logits = raw.masked_fill(self.mask.to(raw.device), float("-inf")) - torch.log(-torch.log(u))
        out = torch.zeros_like(raw)
        for s in self.encoder.spans:
            block = logits[:, s.start: s.start + s.width]
            if s.kind == "alpha":
                out[:, s.start] = torch.tanh(raw[:, s.start])
            else:
                out[:, s.start: s.start + s.width] = F.one_hot(block.argmax(dim=1), s.width).to(out.dtype)
        return out

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """The continuous columns ``(n, Dc)`` of the samples, in the dataset's encoding."""
        continuous, _ = self.encoder.decode(self.generate_rows(nets, z))
        return continuous.float().to(z.device)

    def condition_latent(self, z: torch.Tensor, condition: tuple[str, str]) -> torch.Tensor:
        """Latents ``z`` with every row's conditional vector set to ``column = value``."""
        name, value = condition[0], str(condition[1]).strip()  # categories are kept as strings
        cats = [c for c in self.columns if c["type"] == CATEGORICAL]
        col = next((c for c in cats if c["name"] == name), None)
        if col is None:
            raise ConfigError(f"condition column {name!r} is not a categorical column of this run "
                              f"(categorical: {', '.join(c['name'] for c in cats) or 'none'})")
        if value not in col["categories"]:
            raise ConfigError(f"condition {name}={value!r}: not a category of {name!r} "
                              f"({', '.join(col['categories'])})")
        j, k = cats.index(col), col["categories"].index(value)
        start = self.cfg.model.z_dim
        z = z.clone()
        z[:, start: start + self.sampler.width] = self.sampler.fixed(z.shape[0], j, k).to(z.device)
        return z

    @torch.no_grad()
    def sample_table(self, nets: Mapping[str, nn.Module], n: int, seed: int,
                     condition: tuple[str, str] | None = None) -> dict[str, list[Any]]:
        """``n`` rows ``{column: values}`` with the original column types (whole-number columns
        as ints, categories as in the data), from latents drawn with ``seed``. ``condition``
        ``(column, value)``: G is conditioned on that category and, as G only learns to obey,
        rows of another category are rejected (at most ``CONDITION_TRIES`` batches of ``n``)."""
        if n < 1:
            raise ConfigError(f"--n must be >= 1, got {n}")
        gen = torch.Generator().manual_seed(seed)
        z = self.latent(n, gen)
        if condition is None:
            return self._decode_table(nets, z)
        z = self.condition_latent(z, condition)  # checks the column and value first
        name, value = condition[0], str(condition[1]).strip()
        kept: dict[str, list[Any]] = {c["name"]: [] for c in self.columns}
        for _ in range(CONDITION_TRIES):
            table = self._decode_table(nets, z)
            for i in [i for i, v in enumerate(table[name]) if v == value][: n - len(kept[name])]:
                for col, values in table.items():
                    kept[col].append(values[i])
            if len(kept[name]) == n:
                return kept
            z = self.condition_latent(self.latent(n, gen), condition)
        raise ConfigError(f"condition {name}={value}: G gave only {len(kept[name])} such rows in "
                          f"{CONDITION_TRIES} x {n} draws; train the run longer")

    def _decode_table(self, nets: Mapping[str, nn.Module], z: torch.Tensor) -> dict[str, list[Any]]:
        modes = {name: m.training for name, m in nets.items()}
        for m in nets.values():
            m.eval()
        try:
            device = next(nets["G"].parameters()).device
            continuous, categorical = self.encoder.decode(self.generate_rows(nets, z.to(device)))
        finally:
            for name, m in nets.items():
                m.train(modes[name])
        return round_whole_numbers(decode_table(continuous, categorical, self.columns), self.integers)
