"""Recipe ``infogan``: InfoGAN (Chen et al. 2016, "InfoGAN: Interpretable Representation
Learning by Information Maximizing Generative Adversarial Nets").

**Latent.** ``G``'s input is the concatenation ``[z | onehot(c_cat) | c_cont]`` ``(N, z_dim +
K + n)`` of noise ``z ~ N(0, I)`` (``model.z_dim`` wide), one categorical code
``c_cat ~ Cat(K)`` (``recipe.categorical = K``, one-hot) and ``n`` continuous codes
``c_cont ~ U(-1, 1)`` (``recipe.continuous = n``). ``Recipe.z_dim`` and ``latent()`` are of
that concatenation, so sampling, grids and interpolation work unchanged.

**Q head.** ``Q(c | x)`` shares D's trunk (a ``nets.heads.QHead`` over D's features,
``DOutput.extra["q_categorical" | "q_mean" | "q_logstd"]``); the recipe sets
``model.q_categorical = K`` and ``model.q_continuous = n`` itself.

**Mutual-information term.** The variational lower bound (paper eq. 4)
``L_I(G, Q) = E_{c, z}[log Q(c | G(z, c))] + H(c) <= I(c; G(z, c))`` is maximised by G and Q.
Its negative, the loss ``λ_cat · CE(q_categorical, c_cat) + λ_cont · NLL_Gauss(c_cont; q_mean,
q_logstd)`` (the Gaussian NLL per code, averaged over codes and batch; with
``recipe.fixed_std`` the std is 1, as in the authors' released code), is added to

    L_D = L_adv,D(x_real, x_fake) + λ · L_info(D(x_fake))      (updates D's trunk and Q)
    L_G = L_adv,G(x_fake)         + λ · L_info(D(x_fake))      (updates G)

The Q head's parameters are parameters of the module ``D``, so they are stepped by D's
optimizer (in the D phase, on detached fakes); the G phase backpropagates the same term
into G. Reported: ``InfoGAN/mi_cat = log K − CE`` (the categorical part of the bound, in
nats, ``<= log K``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.losses import LOSSES, single_sided_loss
from gankit.nets.base import DOutput
from gankit.nets.heads import Q_CATEGORICAL, Q_LOGSTD, Q_MEAN
from gankit.recipes.base import RECIPES, DataInfo, StepContext
from gankit.recipes.gan import TwoPlayerRecipe
from gankit.train.loader import Batch

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class InfoGANConfig:
    name: str = "infogan"
    loss: str = "ns"  # adversarial loss: minimax | ns | lsgan | wgan | hinge (`gankit losses`)
    n_critic: int = 1  # D updates per G update
    reuse_fake: bool = True  # G step reuses the last D step's G(z, c) (and its codes)
    categorical: int = 10  # K: values of the one categorical code (paper, MNIST: 10); 0 = none
    continuous: int = 2  # n: continuous codes U(-1, 1) (paper, MNIST: 2)
    lambda_cat: float = 1.0  # weight of the categorical part of L_I (paper: 1)
    lambda_cont: float = 0.1  # weight of the continuous part of L_I (paper: smaller than 1 for continuous codes)
    fixed_std: bool = True  # Q's Gaussian has std 1 (authors' code); false: Q's q_logstd is learnt

    def validate(self) -> None:
        single_sided_loss(self.loss, "infogan")
        if self.n_critic < 1:
            raise ConfigError(f"recipe.n_critic must be >= 1, got {self.n_critic}")
        if self.categorical == 1 or self.categorical < 0:
            raise ConfigError(f"recipe.categorical must be 0 or >= 2, got {self.categorical}")
        if self.continuous < 0:
            raise ConfigError(f"recipe.continuous must be >= 0, got {self.continuous}")
        if self.categorical + self.continuous == 0:
            raise ConfigError("recipe infogan needs at least one latent code (recipe.categorical or recipe.continuous)")
        for key in ("lambda_cat", "lambda_cont"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")


@dataclass
class Codes:
    """The codes of one fake batch: ``cat`` ``(B,)`` int64 (or None), ``cont`` ``(B, n)`` (or None)."""

    cat: torch.Tensor | None
    cont: torch.Tensor | None


def gaussian_nll(x: torch.Tensor, mean: torch.Tensor, logstd: torch.Tensor) -> torch.Tensor:
    """Mean over all entries of ``-log N(x; mean, exp(logstd)^2)``
    ``= log σ + ½ log 2π + ½ ((x − μ)/σ)²``."""
    return (logstd + HALF_LOG_2PI + 0.5 * ((x - mean) * torch.exp(-logstd)).square()).mean()


def _infogan_config(cfg: ExperimentConfig) -> ExperimentConfig:
    """``cfg`` with the networks InfoGAN needs: G's input is noise + codes, D has the Q head."""
    m, rc = cfg.model, cfg.recipe
    if m.conditional:
        raise ConfigError("recipe infogan is unsupervised: set model.conditional=false")
    for key, want in (("q_categorical", rc.categorical), ("q_continuous", rc.continuous)):
        if getattr(m, key) not in (0, want):
            raise ConfigError(
                f"recipe infogan sets model.{key} from the recipe ({want}); leave it 0, got {getattr(m, key)}"
            )
    model = dataclasses.replace(
        m, z_dim=m.z_dim + rc.categorical + rc.continuous, q_categorical=rc.categorical, q_continuous=rc.continuous
    )
    return dataclasses.replace(cfg, model=model)


@RECIPES.register("infogan", "InfoGAN (Chen et al. 2016): categorical + continuous codes, Q head on D's trunk")
class InfoGANRecipe(TwoPlayerRecipe):
    config_class = InfoGANConfig
    d_arch = "default"  # its heads live on the family's own D

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(_infogan_config(cfg), data)
        self.cfg = cfg  # the user's config; the networks were built from the InfoGAN-adjusted one
        self.rc: InfoGANConfig = cfg.recipe
        self.loss = LOSSES.get(self.rc.loss)
        self.noise_dim = cfg.model.z_dim
        self._codes: Codes | None = None  # codes of the latest fake batch

    # -- capabilities: a class grid over the categorical code, latent traversals
    @property
    def categorical_code(self) -> int:
        return self.rc.categorical

    def latent_and_code(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        if not self.rc.categorical:
            return super().latent_and_code(n, generator)
        z, codes = self.draw(n, generator)  # z is what latent(n, generator) draws
        return z, codes.cat.long()

    def traversal_values(self, code_index: int) -> list[float]:
        return traversal_values(self, code_index)

    def traversal_latents(self, code_index: int, values: Sequence[float], seed: int, rows: int = 1) -> torch.Tensor:
        return traversal_latents(self, code_index, values, seed, rows)

    # -- latent layout [z | onehot(c_cat) | c_cont]
    @property
    def z_dim(self) -> int:
        return self.noise_dim + self.rc.categorical + self.rc.continuous

    def code_slices(self) -> list[slice]:
        """Where each code sits in the latent: the categorical code (its one-hot block) first,
        if any, then one slice per continuous code."""
        slices, start = [], self.noise_dim
        if self.rc.categorical:
            slices.append(slice(start, start + self.rc.categorical))
            start += self.rc.categorical
        slices += [slice(start + i, start + i + 1) for i in range(self.rc.continuous)]
        return slices

    def draw(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, Codes]:
        """``n`` latents ``(n, z_dim)`` and their codes, drawn in the order noise, categorical, continuous."""
        z = torch.randn(n, self.noise_dim, generator=generator)  # (n, z_noise)
        parts, codes = [z], Codes(None, None)
        if self.rc.categorical:
            codes.cat = torch.randint(0, self.rc.categorical, (n,), generator=generator)  # (n,)
            parts.append(F.one_hot(codes.cat, self.rc.categorical).to(z.dtype))  # (n, K)
        if self.rc.continuous:
            codes.cont = torch.rand(n, self.rc.continuous, generator=generator) * 2 - 1  # (n, n_cont)
            parts.append(codes.cont)
        return torch.cat(parts, dim=1), codes  # (n, z_dim)

    def latent(
        self, n: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
    ) -> torch.Tensor:
        return self.draw(n, generator)[0].to(device)

    def _new_fake(self, batch: Batch, c: torch.Tensor | None) -> torch.Tensor:
        z, codes = self.draw(batch.x.shape[0])
        dev = batch.x.device
        self._codes = Codes(*(t.to(dev) if t is not None else None for t in (codes.cat, codes.cont)))
        return self.modules["G"](z.to(dev))  # (B, *sample_shape)

    # -- the mutual-information term
    def info_loss(self, out: DOutput, codes: Codes, ctx: StepContext, who: str) -> torch.Tensor:
        """``λ_cat · CE + λ_cont · Gaussian NLL`` of the codes under Q; reports each part."""
        loss = out.logits.new_zeros(())
        if codes.cat is not None:
            ce = F.cross_entropy(out.extra[Q_CATEGORICAL], codes.cat)
            ctx.report(f"Loss/{who}/info_cat", ce)
            if who == "D":
                ctx.report("InfoGAN/mi_cat", math.log(self.rc.categorical) - ce.detach())
            loss = loss + self.rc.lambda_cat * ce
        if codes.cont is not None:
            mean = out.extra[Q_MEAN]
            logstd = torch.zeros_like(mean) if self.rc.fixed_std else out.extra[Q_LOGSTD]
            nll = gaussian_nll(codes.cont, mean, logstd)
            ctx.report(f"Loss/{who}/info_cont", nll)
            loss = loss + self.rc.lambda_cont * nll
        return loss

    def d_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        D = self.modules["D"]
        real_out, fake_out = D(batch.x), D(fake)
        adv = self.loss.d_loss(real_out.logits, fake_out.logits)
        loss = adv + self.info_loss(fake_out, self._codes, ctx, "D")
        ctx.report("D/real", real_out.logits.mean())
        ctx.report("D/fake", fake_out.logits.mean())
        ctx.report("Loss/D/adv", adv)
        ctx.report("Loss/D", loss)
        return loss

    def g_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        out = self.modules["D"](fake)
        adv = self.loss.g_loss(out.logits)
        loss = adv + self.info_loss(out, self._codes, ctx, "G")
        ctx.report("Loss/G/adv", adv)
        ctx.report("Loss/G", loss)
        return loss

    def generate(self, nets, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return nets["G"](z)


DEFAULT_CONTINUOUS_STEPS = 7  # default traversal of a continuous code: this many points over [-1, 1]


def _check_code(recipe, code_index: int) -> slice:
    """The latent slice of code ``code_index`` of an InfoGAN recipe (else ``ConfigError``)."""
    if not isinstance(recipe, InfoGANRecipe):
        raise ConfigError(
            f"latent traversals need an infogan run (one with latent codes), got recipe {recipe.cfg.recipe.name!r}"
        )
    slices = recipe.code_slices()
    if not 0 <= code_index < len(slices):
        raise ConfigError(f"code_index must be in [0, {len(slices) - 1}], got {code_index}")
    return slices[code_index]


def traversal_values(recipe: InfoGANRecipe, code_index: int, steps: int = DEFAULT_CONTINUOUS_STEPS) -> list[float]:
    """Default values of a traversal of code ``code_index``: every class index ``0..K-1``
    of the categorical code, or ``steps`` evenly spaced points over the prior's support
    ``[-1, 1]`` for a continuous code."""
    _check_code(recipe, code_index)
    if recipe.rc.categorical > 0 and code_index == 0:
        return [float(k) for k in range(recipe.rc.categorical)]
    return torch.linspace(-1.0, 1.0, steps).tolist()


def traversal_latents(
    recipe: InfoGANRecipe, code_index: int, values: Sequence[float], seed: int, rows: int = 1
) -> torch.Tensor:
    """Latents ``(rows · len(values), z_dim)`` for a traversal of code ``code_index``
    (``recipe.code_slices()`` order: the categorical code first, if any, then the continuous
    codes). Row ``r`` draws noise and the other codes once (from ``seed``) and sets the varied
    code to each of ``values`` in turn: a class index for the categorical code, a number
    (typically in [-1, 1], or beyond to extrapolate) for a continuous one."""
    sl = _check_code(recipe, code_index)
    if rows < 1 or len(values) < 1:
        raise ConfigError(f"a traversal needs rows >= 1 and at least one value, got {rows}, {len(values)}")
    base = recipe.latent(rows, torch.Generator().manual_seed(seed))  # (rows, z_dim)
    z = base.repeat_interleave(len(values), dim=0)  # (rows·V, z_dim)
    is_cat = recipe.rc.categorical > 0 and code_index == 0
    v = torch.as_tensor(list(values), dtype=z.dtype).repeat(rows)  # (rows·V,)
    if is_cat:
        k = recipe.rc.categorical
        if not all(float(x).is_integer() and 0 <= x < k for x in values):
            raise ConfigError(f"categorical code values must be class indices in [0, {k - 1}], got {list(values)}")
        z[:, sl] = F.one_hot(v.long(), k).to(z.dtype)
    else:
        z[:, sl] = v[:, None]
    return z


def latent_traversal(run, code_index: int, values: Sequence[float], seed: int, rows: int = 1,
                     use_ema: bool = True) -> torch.Tensor:
    """Samples ``(rows · len(values), *sample_shape)`` of an InfoGAN run (``runs.LoadedRun``)
    with one code varied over ``values`` and noise and the other codes fixed per row (see
    ``traversal_latents``); row-major, so a grid of ``len(values)`` columns shows one row per
    fixed draw."""
    z = traversal_latents(run.recipe, code_index, values, seed, rows)
    return run.recipe.sample(run.nets(use_ema), z.to(run.device))
