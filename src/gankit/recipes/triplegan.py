"""Recipe ``triplegan``: Triple-GAN (Li et al. 2017, "Triple Generative Adversarial Nets",
arXiv 1703.02291), a classifier C, a class-conditional generator G and a discriminator D of
image-label pairs.

Players: ``C(x)`` gives ``p_c(y | x)`` (K logits; the model family's discriminator with a
class head, built unconditional); ``G(z, y)`` (``model.conditional``); ``D(x, y)`` (the
conditional, projection discriminator) with ``D = σ(logit)``. Pairs: real labelled
``(x_l, y_l)``; generated ``(G(z, y), y)``, ``y`` uniform over the K classes; pseudo-labelled
``(x_u, ŷ)``, ``x_u`` unlabelled and ``ŷ ~ p_c(· | x_u)`` sampled. With ``α`` = ``recipe.alpha``
the game of Eq. 1 is

    U(C, G, D) = E_p[log D(x, y)] + α E_{p_c}[log(1 − D(x, y))] + (1 − α) E_{p_g}[log(1 − D(G(z, y), y))]

which D maximises, and C and G minimise, plus C's regularisers (Eq. 3–6)
``R_L = E_p[−log p_c(y | x)]`` (CE on the labelled data) and ``R_P = E_{p_g}[−log p_c(y | x)]``
(CE on G's pairs, weight ``α_P``, on from step ``recipe.pseudo_start``). The losses, in order
of the phases:

    L_D = E softplus(−d_l) + α E softplus(d_u) + (1 − α) E softplus(d_g)        (d = D's logits)
    L_C = α E[ f(d_u) · log p_c(ŷ | x_u) ] + R_L + α_P R_P
    L_G = (1 − α) E[ f(d_g) ]

with ``f(d) = log(1 − D) = −softplus(d)`` (``recipe.loss = "minimax"``: Eq. 1 as written)
or ``f(d) = −log D = softplus(−d)`` (``"ns"``, the non-saturating form of the authors' code).
``ŷ`` is discrete: Algorithm 1 estimates C's adversarial gradient by REINFORCE,
``∇ E_{ŷ~p_c}[f] = E[f · ∇ log p_c(ŷ | x)]`` (``f`` held fixed; ``recipe.c_gradient =
"reinforce"``, the default). With K labels the expectation is also a sum, ``Σ_k p_c(k | x) f(x,
k)``, whose gradient is exact (``"exact"``: K passes of D over ``x_u``, no sampling noise); the
authors' code uses the argmax label weighted by its probability, ``max_k p_c · f(x, argmax p_c)``
(``"argmax"``).

Eq. 1 alone does not train C on MNIST's 100 labels (``benchmarks/semi_supervised.py``, MLP
nets: C ends worse than on its labels alone). The authors' code adds what the paper calls
biased techniques, each an option here (0 = off): C pre-trained alone for
``recipe.pretrain_steps`` steps (D and G idle); C's prediction entropy on unlabelled data
(``c_entropy``, Grandvalet & Bengio 2005) and the class balance of its mean prediction
(``c_balance``); and C-labelled unlabelled pairs counted as real by D (``real_pseudo`` λ: D's
real term is ``(1 − λ) E_l softplus(−d) + λ E softplus(−d(x_u, argmax p_c))``, the code's ratio
of 400 such pairs to 1 labelled pair being λ ≈ 1). The preset uses them with the DCGAN family's
nets (C is then a convolutional classifier): C reaches 4.2 % test error after 20,000 steps (3
seeds), against 7.0 % for the same C trained alone on the same schedule.

Labelled minibatches: ``semi_supervised.LabelledPool`` (``recipe.num_labelled`` examples,
chosen with ``train.seed``), ``min(train.batch_size, num_labelled)`` per draw; unlabelled
batches are the trainer's (their labels are ignored).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.nets import NetSpec, build_networks
from gankit.recipes.base import (
    RECIPES,
    DataInfo,
    OptimizerSpec,
    Recipe,
    StepContext,
    warn_if_only_pretraining,
)
from gankit.semi_supervised import LabelledPool, check_classifier_ema
from gankit.train.loader import Batch
from gankit.train.phases import Phase


def triple_d_loss(
    real_logits: torch.Tensor, pseudo_logits: torch.Tensor, gen_logits: torch.Tensor, alpha: float
) -> torch.Tensor:
    """D's loss, the negated Eq. 1 of Li et al. 2017:
    ``E softplus(−d_real) + α E softplus(d_pseudo) + (1 − α) E softplus(d_gen)``
    (``−log D = softplus(−d)``, ``−log(1 − D) = softplus(d)``)."""
    return (
        F.softplus(-real_logits).mean()
        + alpha * F.softplus(pseudo_logits).mean()
        + (1 - alpha) * F.softplus(gen_logits).mean()
    )


def fooling_cost(logits: torch.Tensor, loss: str) -> torch.Tensor:
    """Per-pair cost ``f(d)`` that C and G minimise: ``log(1 − D) = −softplus(d)`` (minimax)
    or ``−log D = softplus(−d)`` (ns); shape of ``logits``."""
    return -F.softplus(logits) if loss == "minimax" else F.softplus(-logits)


def reinforce_loss(cost: torch.Tensor, log_prob: torch.Tensor) -> torch.Tensor:
    """Surrogate ``E[f · log p_c(ŷ | x)]`` whose gradient is the REINFORCE estimate of
    ``∇ E_{ŷ~p_c}[f(x, ŷ)]`` (Williams 1992; Li et al. 2017, Algorithm 1); ``cost`` ``(N,)``
    is held fixed, ``log_prob`` ``(N,)`` carries the gradient."""
    return (cost.detach() * log_prob).mean()


def expected_cost(probs: torch.Tensor, costs: torch.Tensor) -> torch.Tensor:
    """``E_x Σ_k p_c(k | x) f(x, k)``: the expectation that ``reinforce_loss`` estimates from one
    sampled ``ŷ`` per ``x``, summed exactly over the K labels; ``probs`` ``(N, K)`` carries the
    gradient, ``costs`` ``(N, K)`` is held fixed. Its gradient in C's logits θ is
    ``p ⊙ (f − ⟨p, f⟩)`` per example, with no sampling variance."""
    return (probs * costs.detach()).sum(1).mean()


def argmax_cost(probs: torch.Tensor, costs: torch.Tensor) -> torch.Tensor:
    """``E_x[max_k p_c(k | x) · f(x, argmax_k p_c(k | x))]``, the authors' code's deterministic
    stand-in for ``E_{ŷ~p_c}[f(x, ŷ)]`` (``objective_flag = 'argmax'``): ``probs`` ``(N, K)``
    carries the gradient (through the largest probability only), ``costs`` ``(N,)``, the cost at
    the argmax label, is held fixed."""
    return (probs.max(dim=1).values * costs.detach()).mean()


def prediction_entropy(logits: torch.Tensor) -> torch.Tensor:
    """``E_x H(p(· | x)) = −E_x Σ_k p_k log p_k`` of class logits ``(N, K)``: entropy
    minimisation on unlabelled data (Grandvalet & Bengio 2005), a regulariser of C in the
    Triple-GAN authors' code (weight 0.3)."""
    log_p = F.log_softmax(logits, dim=1)
    return -(log_p.exp() * log_p).sum(1).mean()


def balance_loss(logits: torch.Tensor) -> torch.Tensor:
    """``−(1/K) Σ_k log p̄_k`` with ``p̄ = E_x p(· | x)``: the cross-entropy of the mean
    prediction against the uniform distribution over the K classes (its minimum, ``log K``,
    when C spreads its predictions evenly); the Triple-GAN authors' code's class-balance term."""
    n = logits.shape[0]
    log_mean_p = torch.logsumexp(F.log_softmax(logits, dim=1), dim=0) - math.log(n)  # (K,) log p̄, no underflow
    return -log_mean_p.mean()


@dataclass(frozen=True)
class TripleGANConfig:
    name: str = "triplegan"
    num_labelled: int = 100  # labelled training examples, class-balanced (a multiple of the classes)
    alpha: float = 0.5  # α: weight of C's pairs in U; G's get 1 − α (paper: 1/2)
    alpha_p: float = 0.1  # α_P: weight of R_P, C's CE on G's pairs (paper code: 0.1); 0 disables
    pseudo_start: int = 0  # step from which R_P is used (G's samples are poor early on)
    loss: Literal["ns", "minimax"] = "ns"  # C's and G's cost: -log D (authors' code) | log(1 - D) (Eq. 1)
    lr_c: float = 2e-4  # learning rate of C (optim.lr_d is D's, optim.lr_g G's)
    classifier_ema: float = 0.0  # decay of a moving average of C's weights that classifies (0 = the raw C)
    # C's adversarial gradient: "reinforce" samples ŷ ~ p_c, the score-function estimate of Algorithm 1;
    # "exact" sums f(x, k) p_c(k | x) over the K labels (one D pass per label, no sampling noise);
    # "argmax" weights f(x, argmax p_c) by max p_c (the authors' code)
    c_gradient: Literal["reinforce", "exact", "argmax"] = "reinforce"
    # the authors' code's "biased techniques" (not in Eq. 1; 0 = off):
    c_entropy: float = 0.0  # weight of C's prediction entropy on unlabelled data (code: 0.3)
    c_balance: float = 0.0  # weight of the class balance of C's mean prediction (code: 0.3 pre-training, 1e-3 after)
    pretrain_steps: int = 0  # first steps train C alone on R_L and the two terms above (D and G wait)
    real_pseudo: float = 0.0  # weight λ of C-labelled (argmax) unlabelled pairs in D's real term (code: ~1)

    def validate(self) -> None:
        if self.num_labelled < 1:
            raise ConfigError(f"recipe.num_labelled must be >= 1, got {self.num_labelled}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ConfigError(f"recipe.alpha must be in [0, 1], got {self.alpha}")
        for key in ("alpha_p", "pseudo_start", "c_entropy", "c_balance", "pretrain_steps"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")
        if not 0.0 <= self.real_pseudo <= 1.0:
            raise ConfigError(f"recipe.real_pseudo must be in [0, 1], got {self.real_pseudo}")
        if self.lr_c <= 0:
            raise ConfigError(f"recipe.lr_c must be > 0, got {self.lr_c}")
        check_classifier_ema(self.classifier_ema)


def _check_model(cfg: ExperimentConfig, data: DataInfo) -> None:
    m, k = cfg.model, data.num_classes
    if not m.conditional:
        raise ConfigError("recipe triplegan needs a class-conditional G and D: set model.conditional=true")
    if k < 2:
        raise ConfigError(f"recipe triplegan needs a dataset with at least 2 classes, got {k}")
    if m.d_class_head or m.q_categorical or m.q_continuous:
        raise ConfigError("recipe triplegan's D judges pairs and has no extra heads: leave model.d_class_head, "
                          "model.q_categorical and model.q_continuous 0 (C gets its class head from the recipe)")
    if not m.d_projection:
        raise ConfigError("recipe triplegan's D(x, y) needs the label: set model.d_projection=true")
    if cfg.recipe.real_pseudo > 0 and cfg.train.batch_size < 2:
        raise ConfigError("recipe.real_pseudo splits each unlabelled batch in two: set train.batch_size >= 2")


@RECIPES.register("triplegan", "Triple-GAN (Li et al. 2017): classifier C, conditional G, D on (x, y) pairs")
class TripleGANRecipe(Recipe):
    config_class = TripleGANConfig
    d_arch = "default"  # its heads live on the family's own D

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        _check_model(cfg, data)
        self.rc: TripleGANConfig = cfg.recipe
        self.k = data.num_classes
        spec = NetSpec(data.sample_shape, self.k)
        G, D = build_networks(cfg.model, spec)
        c_model = dataclasses.replace(cfg.model, conditional=False, d_class_head=self.k, d_minibatch="none")
        _, C = build_networks(c_model, spec)  # the family's D, unconditional, with a K-way class head
        self.modules["G"] = G
        self.modules["D"] = D
        self.modules["C"] = C
        warn_if_only_pretraining(cfg, data, self.rc.pretrain_steps, "the classifier C")
        # None when sampling a saved run (no training set): training then raises
        self.pool = (
            LabelledPool(data.train_set, self.rc.num_labelled, self.k, cfg.train.seed)
            if data.train_set is not None
            else None
        )
        self.labelled_batch = min(cfg.train.batch_size, self.rc.num_labelled)

    @property
    def z_dim(self) -> int:
        return self.cfg.model.z_dim

    @property
    def num_classes(self) -> int:
        return self.k

    def phases(self) -> list[Phase]:
        return [Phase("D", ("D",), "D"), Phase("C", ("C",), "C"), Phase("G", ("G",), "G")]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        return {
            "D": OptimizerSpec(("D",), self.cfg.optim.lr_d),
            "C": OptimizerSpec(("C",), self.rc.lr_c),
            "G": OptimizerSpec(("G",), self.cfg.optim.lr_g),
        }

    def ema_decays(self) -> dict[str, float]:
        """G's average (``train.ema_decay``) and, with ``recipe.classifier_ema``, one of C, which
        ``semi_supervised.classifier_error`` then scores (as ``ssgan`` does with D)."""
        decays = super().ema_decays()
        if self.rc.classifier_ema > 0:
            decays["C"] = self.rc.classifier_ema
        return decays

    def class_logits(self, nets: Mapping[str, nn.Module], x: torch.Tensor) -> torch.Tensor:
        """C's K class logits ``(N, K)`` (``semi_supervised.Classifier``)."""
        return nets["C"](x).class_logits

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if c is None:
            raise ConfigError("recipe triplegan's generator is conditional: pass class labels")
        return nets["G"](z, c)

    # -- pairs
    def _labelled(self, step: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if self.pool is None:
            raise ConfigError("recipe triplegan trains only with its training set (DataInfo.train_set)")
        return self.pool.draw(step, self.labelled_batch, device)

    def _generated(self, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """``(G(z, y), y)``, ``y`` uniform over the classes, ``z ~ N(0, I)``."""
        y = torch.randint(0, self.k, (n,), device=device)  # (n,)
        z = torch.randn(n, self.z_dim, device=device)  # (n, z_dim)
        return self.modules["G"](z, y), y

    def _c_adversarial(self, D: nn.Module, x_u: torch.Tensor, logits_u: torch.Tensor) -> torch.Tensor:
        """C's adversarial term ``E_{ŷ~p_c}[f(x_u, ŷ)]`` on unlabelled ``x_u`` (``recipe.c_gradient``)."""
        if self.rc.c_gradient == "reinforce":
            y_hat = torch.multinomial(F.softmax(logits_u.detach(), dim=1), 1).squeeze(1)  # (B,)
            log_p = F.log_softmax(logits_u, dim=1).gather(1, y_hat[:, None]).squeeze(1)  # (B,) log p_c(ŷ|x)
            with torch.no_grad():
                cost = fooling_cost(D(x_u, y_hat).logits, self.rc.loss)  # (B,)
            return reinforce_loss(cost, log_p)
        if self.rc.c_gradient == "argmax":
            with torch.no_grad():
                cost = fooling_cost(D(x_u, logits_u.argmax(1)).logits, self.rc.loss)  # (B,)
            return argmax_cost(F.softmax(logits_u, dim=1), cost)
        b = x_u.shape[0]
        labels = torch.arange(self.k, device=x_u.device).repeat_interleave(b)  # (K·B,) label k for block k
        with torch.no_grad():
            d = D(x_u.repeat(self.k, *([1] * (x_u.dim() - 1))), labels).logits  # (K·B,)
            costs = fooling_cost(d, self.rc.loss).view(self.k, b).T  # (B, K): f(x_i, k)
        return expected_cost(F.softmax(logits_u, dim=1), costs)

    def _d_loss(self, x_u: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        """D's loss. With ``recipe.real_pseudo`` λ > 0 the first half of ``x_u``, labelled by C's
        argmax, joins the real pairs (weight λ, the labelled pairs 1 − λ), and the second half
        makes the fake pseudo-labelled pairs."""
        D, C, dev, lam = self.modules["D"], self.modules["C"], x_u.device, self.rc.real_pseudo
        x_l, y_l = self._labelled(ctx.step, dev)
        half = x_u.shape[0] // 2 if lam > 0 else 0
        x_r, x_c = x_u[:half], x_u[half:]
        with torch.no_grad():
            y_c = torch.multinomial(F.softmax(C(x_c).class_logits, dim=1), 1).squeeze(1)  # (B - half,) ŷ ~ p_c
            x_g, y_g = self._generated(x_u.shape[0], dev)
        d_l, d_c, d_g = D(x_l, y_l).logits, D(x_c, y_c).logits, D(x_g, y_g).logits
        loss = triple_d_loss(d_l, d_c, d_g, self.rc.alpha)
        if lam > 0:
            with torch.no_grad():
                y_r = C(x_r).class_logits.argmax(1)  # (half,)
            d_r = D(x_r, y_r).logits
            loss = loss + lam * (F.softplus(-d_r).mean() - F.softplus(-d_l).mean())
            ctx.report("D/real_pseudo", d_r.mean())
        ctx.report("D/real", d_l.mean())
        ctx.report("D/pseudo", d_c.mean())
        ctx.report("D/fake", d_g.mean())
        ctx.report("Loss/D", loss)
        return loss

    def _c_loss(self, x_u: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        """C's loss: ``R_L`` and the entropy and balance terms on ``x_u``; after pre-training
        also its adversarial term and ``α_P R_P``."""
        C, dev, rc = self.modules["C"], x_u.device, self.rc
        x_l, y_l = self._labelled(ctx.step, dev)
        logits_u = C(x_u).class_logits  # (B, K)
        loss = torch.zeros((), device=dev)
        if ctx.step >= rc.pretrain_steps:
            loss = rc.alpha * self._c_adversarial(self.modules["D"], x_u, logits_u)
            ctx.report("Loss/C/adv", loss)
        logits_l = C(x_l).class_logits  # (L, K)
        r_l = F.cross_entropy(logits_l, y_l)
        loss = loss + r_l
        if rc.c_entropy > 0:
            loss = loss + rc.c_entropy * prediction_entropy(logits_u)
        if rc.c_balance > 0:
            loss = loss + rc.c_balance * balance_loss(logits_u)
        if rc.alpha_p > 0 and ctx.step >= max(rc.pseudo_start, rc.pretrain_steps):
            with torch.no_grad():
                x_g, y_g = self._generated(x_u.shape[0], dev)
            r_p = F.cross_entropy(C(x_g).class_logits, y_g)
            ctx.report("Loss/C/R_P", r_p)
            loss = loss + rc.alpha_p * r_p
        with torch.no_grad():
            acc = (logits_l.argmax(1) == y_l).float().mean()
        ctx.report("Loss/C/R_L", r_l)
        ctx.report("TripleGAN/acc_labelled", acc)
        ctx.report("Loss/C", loss)
        return loss

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        if phase != "C" and ctx.step < self.rc.pretrain_steps:
            return  # C pre-trains alone: D and G stay idle (no backward, so no optimizer step)
        if phase == "D":
            loss = self._d_loss(batch.x, ctx)
        elif phase == "C":
            loss = self._c_loss(batch.x, ctx)
        elif phase == "G":
            x_g, y_g = self._generated(batch.x.shape[0], batch.x.device)
            loss = (1 - self.rc.alpha) * fooling_cost(self.modules["D"](x_g, y_g).logits, self.rc.loss).mean()
            ctx.report("Loss/G", loss)
        else:  # pragma: no cover - phases() declares only D, C and G
            raise ValueError(f"unknown phase {phase}")
        ctx.backward(loss)
