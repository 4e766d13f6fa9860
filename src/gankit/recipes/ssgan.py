"""Recipe ``ssgan``: the semi-supervised GAN with K+1 classes (Salimans et al. 2016,
"Improved Techniques for Training GANs", §5).

D is a K-way classifier whose class logits ``l_1..l_K`` (``DOutput.class_logits``, a class
head: the recipe sets ``model.d_class_head = K``) also decide real vs fake: the fake class
K+1 has its logit fixed at 0, so with ``Z(x) = Σ_k exp(l_k(x))``

    D(x) = p(real | x) = Z / (Z + 1) = σ(log Z),   log Z = logsumexp_k l_k.

    L_D = L_sup + w_unsup · L_unsup
    L_sup   = CE(l(x_lab), y_lab)                         (the K labelled classes)
    L_unsup = −E log D(x_unl) − E log(1 − D(G(z)))
            = E softplus(−log Z(x_unl)) + E softplus(log Z(G(z)))

computed from ``log Z`` with ``softplus``, so it is stable for any logits. G minimises
feature matching ``|| E f(x_unl) − E f(G(z)) ||²`` on D's features (``DOutput.features``,
its last hidden layer; §3.1, the variant the paper uses for semi-supervised learning) or,
with ``recipe.g_loss = "ns"``, ``−E log D(G(z))``. The target ``E f(x_unl)`` is, with
``recipe.fm_target = "g_phase"`` (the authors' code), D's features of the G phase's unlabelled
batch after D's update; with ``"d_phase"``, the features D computed of its own unlabelled batch
in the D phase, before its update (one D forward per step fewer; a target one D step old).

When D treats samples independently (no batch norm or minibatch layer:
``nets.base.mixes_samples``), its D phase runs one forward over the labelled, unlabelled and
generated batches together, which gives the values of three forwards at less cost.

Labelled minibatches come from a fixed class-balanced subset of ``recipe.num_labelled``
training examples (``semi_supervised.LabelledPool``, chosen with ``train.seed``), of size
``min(train.batch_size, num_labelled)``; unlabelled batches are the trainer's (their labels
are ignored). The authors' D (their MNIST code) has weight normalisation with a data-dependent
init and Gaussian noise on its input and after every hidden layer: here ``model.d_weight_norm``,
``recipe.data_init`` (the number of training examples, chosen with ``train.seed``, that
initialise D's weight-normalised layers before the first step, ``nets.init.weight_norm_data_init_``),
``recipe.input_noise`` and ``model.d_hidden_noise``. D's adversarial head (``DOutput.logits``)
is unused. The classifier that is scored (``semi_supervised.classifier_error``) is the moving
average of D's weights (``recipe.classifier_ema``, with the trainer's EMA warm-up), as the
authors' code scores its test set with an average of D's parameters.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, Mapping

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.losses import ns_d_loss, ns_g_loss
from gankit.losses.stabilizers import add_instance_noise, feature_matching_loss
from gankit.nets.base import DOutput, mixes_samples
from gankit.nets.init import weight_norm_data_init_
from gankit.recipes.base import RECIPES, DataInfo, StepContext
from gankit.recipes.gan import TwoPlayerRecipe
from gankit.semi_supervised import LabelledPool, check_classifier_ema
from gankit.train.loader import Batch


def real_logit(class_logits: torch.Tensor) -> torch.Tensor:
    """``log Z = logsumexp_k l_k`` ``(N,)`` of class logits ``(N, K)``: the logit of
    ``D(x) = Z / (Z + 1)`` when the fake class K+1 has logit 0 (Salimans et al. 2016, §5)."""
    if class_logits.dim() != 2:
        raise ConfigError(f"class logits must have shape (N, K), got {tuple(class_logits.shape)}")
    return torch.logsumexp(class_logits, dim=1)


def k_plus_one_d_loss(real_class_logits: torch.Tensor, fake_class_logits: torch.Tensor) -> torch.Tensor:
    """Unsupervised K+1 loss of D (Salimans et al. 2016, §5):
    ``−E log D(x) − E log(1 − D(G(z)))`` with ``D = Z/(Z+1)``, ``Z = Σ_k exp(l_k)``
    ``= E softplus(−log Z_real) + E softplus(log Z_fake)``."""
    return ns_d_loss(real_logit(real_class_logits), real_logit(fake_class_logits))


def k_plus_one_g_loss(fake_class_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating G loss of the K+1 discriminator: ``−E log D(G(z)) = E softplus(−log Z)``."""
    return ns_g_loss(real_logit(fake_class_logits))


@dataclass(frozen=True)
class SSGANConfig:
    name: str = "ssgan"
    num_labelled: int = 100  # labelled training examples, class-balanced (a multiple of the classes)
    g_loss: Literal["feature_matching", "ns"] = "feature_matching"  # G: ||E f(x) - E f(G(z))||^2 | -log D(G(z))
    fm_target: Literal["g_phase", "d_phase"] = "g_phase"  # E f(x): G phase's batch, updated D | D phase's, before
    unsup_weight: float = 1.0  # w_unsup: weight of L_unsup in D's loss (the authors' code: 0.5)
    input_noise: float = 0.0  # std of Gaussian noise added to every D input while training (paper, MNIST: 0.3)
    n_critic: int = 1  # D updates per G update
    reuse_fake: bool = True  # G step reuses the last D step's G(z)
    data_init: int = 500  # with model.d_weight_norm: training examples for D's data-dependent init (0 = off)
    classifier_ema: float = 0.9999  # decay of the moving average of D's weights that classifies (0 = the raw D)

    def validate(self) -> None:
        if self.data_init < 0:
            raise ConfigError(f"recipe.data_init must be >= 0, got {self.data_init}")
        if self.num_labelled < 1:
            raise ConfigError(f"recipe.num_labelled must be >= 1, got {self.num_labelled}")
        if self.n_critic < 1:
            raise ConfigError(f"recipe.n_critic must be >= 1, got {self.n_critic}")
        for key in ("unsup_weight", "input_noise"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")
        check_classifier_ema(self.classifier_ema)
        if self.fm_target != "g_phase" and self.g_loss != "feature_matching":
            raise ConfigError(f"recipe.fm_target={self.fm_target} needs recipe.g_loss=feature_matching")


def _ssgan_config(cfg: ExperimentConfig, data: DataInfo) -> ExperimentConfig:
    """``cfg`` with the networks the K+1 GAN needs: unconditional G, D with a K-way class head."""
    m, k = cfg.model, data.num_classes
    if m.conditional:
        raise ConfigError("recipe ssgan has an unconditional generator: set model.conditional=false")
    if k < 2:
        raise ConfigError(f"recipe ssgan needs a dataset with at least 2 classes, got {k}")
    if m.d_class_head not in (0, k):
        raise ConfigError(
            f"recipe ssgan: model.d_class_head must be the number of classes ({k}) or 0, got {m.d_class_head}"
        )
    if m.d_minibatch != "none":
        raise ConfigError("recipe ssgan ignores D's adversarial logit, so model.d_minibatch must be none")
    return dataclasses.replace(cfg, model=dataclasses.replace(m, d_class_head=k))


@RECIPES.register("ssgan", "semi-supervised GAN (Salimans et al. 2016): K+1-class D, feature matching G")
class SSGANRecipe(TwoPlayerRecipe):
    config_class = SSGANConfig
    d_arch = "default"  # its heads live on the family's own D

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(_ssgan_config(cfg, data), data)
        self.cfg = cfg  # the user's config; the networks were built from the adjusted one
        self.rc: SSGANConfig = cfg.recipe
        # None when sampling a saved run (no training set): training then raises in _labelled
        self.pool = (
            LabelledPool(data.train_set, self.rc.num_labelled, data.num_classes, cfg.train.seed)
            if data.train_set is not None
            else None
        )
        self.labelled_batch = min(cfg.train.batch_size, self.rc.num_labelled)
        self._one_forward = not mixes_samples(self.modules["D"])
        self._fm_target: torch.Tensor | None = None  # fm_target=d_phase: D phase features of x_unl, for G
        if cfg.model.d_weight_norm and self.rc.data_init and data.train_set is not None:
            self._data_init(data.train_set.x, cfg.train.seed)

    def _data_init(self, x: torch.Tensor, seed: int) -> None:
        """D's weight-normalised layers initialised on ``recipe.data_init`` random training
        examples (the authors' code: 500); a resumed run's checkpoint then overwrites them."""
        n = min(self.rc.data_init, x.shape[0])
        idx = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))[:n]
        weight_norm_data_init_(self.modules["D"], x[idx])

    def ema_decays(self) -> dict[str, float]:
        """G's average (``train.ema_decay``) and, with ``recipe.classifier_ema``, one of D: the
        authors' code scores the test set with an average of D's weights (rate 1e-4)."""
        decays = super().ema_decays()
        if self.rc.classifier_ema > 0:
            decays["D"] = self.rc.classifier_ema
        return decays

    def class_logits(self, nets: Mapping[str, nn.Module], x: torch.Tensor) -> torch.Tensor:
        """D's K class logits ``(N, K)`` (``semi_supervised.Classifier``)."""
        return nets["D"](x).class_logits

    def _d(self, x: torch.Tensor) -> DOutput:
        """D on ``x`` plus the training input noise."""
        return self.modules["D"](add_instance_noise(x, self.rc.input_noise))

    def _d_outputs(self, xs: list[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``(class_logits, features)`` of D on each of ``xs`` with the training noise: one
        forward over their concatenation when D treats samples independently, else one each."""
        with parametrize.cached():  # D's parametrized weights (weight norm) computed once
            if self._one_forward:
                out, sizes = self._d(torch.cat(xs)), [x.shape[0] for x in xs]
                return list(zip(out.class_logits.split(sizes), out.features.split(sizes)))
            outs = [self._d(x) for x in xs]
        return [(o.class_logits, o.features) for o in outs]

    def d_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        if self.pool is None:
            raise ConfigError("recipe ssgan trains only with its training set (DataInfo.train_set)")
        x_lab, y_lab = self.pool.draw(ctx.step, self.labelled_batch, batch.x.device)
        # class logits (B_lab, K), (B, K), (B, K)
        (lab, _), (real, real_features), (fake_l, _) = self._d_outputs([x_lab, batch.x, fake])
        if self.rc.fm_target == "d_phase":
            self._fm_target = real_features.detach()
        sup = F.cross_entropy(lab, y_lab)
        unsup = k_plus_one_d_loss(real, fake_l)
        loss = sup + self.rc.unsup_weight * unsup
        with torch.no_grad():
            acc = (lab.argmax(1) == y_lab).float().mean()
        ctx.report("D/real", real_logit(real).mean())
        ctx.report("D/fake", real_logit(fake_l).mean())
        ctx.report("Loss/D/sup", sup)
        ctx.report("Loss/D/unsup", unsup)
        ctx.report("SSGAN/acc_labelled", acc)
        ctx.report("Loss/D", loss)
        return loss

    def g_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        with parametrize.cached():
            fake_out = self._d(fake)
            if self.rc.g_loss == "ns":
                loss = k_plus_one_g_loss(fake_out.class_logits)
            else:
                real_features, self._fm_target = self._fm_target, None  # (B, F), a fixed target
                if real_features is None:  # fm_target=g_phase (or no D phase ran this step)
                    with torch.no_grad():
                        real_features = self._d(batch.x).features
                loss = feature_matching_loss(real_features, fake_out.features)
        ctx.report("Loss/G", loss)
        return loss
