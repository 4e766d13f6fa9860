"""Recipe ``seqgan``: SeqGAN (Yu, Zhang, Wang & Yu, "SeqGAN: Sequence Generative Adversarial Nets
with Policy Gradient", AAAI 2017).

G is an LSTM policy over tokens, D the CNN text classifier (``gankit.nets.recurrent``). Schedule
in trainer steps, as phases that stay idle outside their range:

1. steps ``[0, pretrain_g_steps)``: phase ``mle``, G by teacher forcing (the MLE baseline);
2. steps ``[pretrain_g_steps, + pretrain_d_steps)``: phase ``D`` alone (``d_steps`` updates per
   step), real batches against fresh samples of G: D's pre-training;
3. then adversarial steps: phase ``G`` (``g_steps`` REINFORCE updates, eq. 8: the gradient of
   ``-(1/B) sum_{b,t} Q_{b,t} log G_theta(y_{b,t} | y_{b,<t})`` with the Monte-Carlo roll-out
   rewards ``Q`` of ``gankit.recipes.rollout``, baseline-free), then phase ``D`` (``d_steps``
   updates with the non-saturating BCE of D: ``-log D(x) - log(1 - D(G))``).

The roll-out policy ``G_beta`` (module ``R``) is G copied at every pre-training step and, after
each adversarial G update, moved towards G as in the paper's code:
``beta <- rollout_update · beta + (1 - rollout_update) · theta`` (0.8 there).
D's rewards are read with D in eval mode (no dropout), as in the paper's code.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Callable

import torch

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.losses.adversarial import ns_d_loss
from gankit.losses.policy import reinforce_loss, sequence_cross_entropy
from gankit.nets.recurrent import build_sequence_cnn
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, PretrainingOnlyWarning, StepContext
from gankit.recipes.mle import SequenceRecipe
from gankit.recipes.rollout import rollout_rewards
from gankit.train.loader import Batch
from gankit.train.phases import Phase


@dataclass(frozen=True)
class SeqGANConfig:
    name: str = "seqgan"
    pretrain_g_steps: int = 0  # first steps: MLE of G by teacher forcing
    pretrain_d_steps: int = 0  # next steps: D alone, real vs G's samples (d_steps updates each)
    rollouts: int = 16  # Monte-Carlo roll-outs N per prefix (the paper: 16)
    rollout_update: float = 0.8  # roll-out policy: beta <- r·beta + (1-r)·theta after each G update (paper: 0.8)
    g_steps: int = 1  # REINFORCE updates of G per adversarial step (the paper: 1)
    d_steps: int = 5  # D updates per step, each on a real batch and fresh samples (paper: 5 x 3 epochs)

    def validate(self) -> None:
        for key in ("pretrain_g_steps", "pretrain_d_steps"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")
        for key in ("rollouts", "g_steps", "d_steps"):
            if getattr(self, key) < 1:
                raise ConfigError(f"recipe.{key} must be >= 1, got {getattr(self, key)}")
        if not 0.0 <= self.rollout_update <= 1.0:
            raise ConfigError(f"recipe.rollout_update must be in [0, 1], got {self.rollout_update}")


@RECIPES.register("seqgan", "SeqGAN (Yu et al. 2017): LSTM policy, CNN D, REINFORCE with Monte-Carlo roll-outs")
class SeqGANRecipe(SequenceRecipe):
    config_class = SeqGANConfig
    d_scores = "logits"

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc: SeqGANConfig = cfg.recipe
        self.modules["D"] = build_sequence_cnn(cfg.model, self.vocab_size, self.seq_len)
        self.modules["R"] = copy.deepcopy(self.modules["G"]).requires_grad_(False)  # roll-out policy G_beta
        self.adversarial_start = self.rc.pretrain_g_steps + self.rc.pretrain_d_steps
        if data.num_examples and 0 < cfg.train.steps <= self.adversarial_start:
            warnings.warn(f"train.steps={cfg.train.steps} <= recipe.pretrain_g_steps + recipe.pretrain_d_steps="
                          f"{self.adversarial_start}: this run only pre-trains G (MLE) and D; raise train.steps (or "
                          f"resume with more) for adversarial steps", PretrainingOnlyWarning, stacklevel=2)

    def phases(self) -> list[Phase]:
        return [Phase("mle", ("G",), "mle"), Phase("G", ("G",), "G", repeats=self.rc.g_steps),
                Phase("D", ("D",), "D", repeats=self.rc.d_steps)]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        lr_g, lr_d = self.cfg.optim.lr_g, self.cfg.optim.lr_d
        return {"mle": OptimizerSpec(("G",), lr_g), "G": OptimizerSpec(("G",), lr_g), "D": OptimizerSpec(("D",), lr_d)}

    def _probability_real(self, tokens: torch.Tensor) -> torch.Tensor:
        """D's probability of real ``(M,)`` for token rows ``(M, T)``, D in eval mode."""
        D = self.modules["D"]
        training = D.training
        D.eval()
        try:
            return torch.sigmoid(D(tokens).logits)  # (M,)
        finally:
            D.train(training)

    def sequence_score(self, batch_size: int) -> Callable[[torch.Tensor], torch.Tensor]:
        """The reward of complete token rows ``(M, T)`` (scored in batches of ``batch_size``
        rows) that the roll-outs average: D's probability of real (ORGAN mixes in an objective)."""
        return self._probability_real

    @torch.no_grad()
    def _fake(self, n: int, device: torch.device) -> torch.Tensor:
        return self.modules["G"].sample(torch.rand(n, self.seq_len).to(device))  # (n, T)

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        real = batch["tokens"]  # (B, T)
        pretrain_g = ctx.step < self.rc.pretrain_g_steps
        pretrain_d = not pretrain_g and ctx.step < self.adversarial_start
        G = self.modules["G"]
        if phase == "mle":
            if not pretrain_g:
                return
            loss = sequence_cross_entropy(G.logits(real), real)
            ctx.report("Loss/G/mle", loss)
        elif phase == "G":
            if pretrain_g or pretrain_d:
                return
            fake = self._fake(real.shape[0], real.device)  # (B, T)
            score = self.sequence_score(fake.shape[0])
            rewards = rollout_rewards(self.modules["R"], score, fake, self.rc.rollouts)  # (B, T)
            loss = reinforce_loss(G.log_probs(fake), rewards)
            ctx.report("Loss/G", loss)
            ctx.report("G/reward", rewards.mean())
        elif phase == "D":
            if pretrain_g:
                return
            real_logits = self.modules["D"](real).logits  # (B,)
            fake_logits = self.modules["D"](self._fake(real.shape[0], real.device)).logits  # (B,)
            loss = ns_d_loss(real_logits, fake_logits)
            ctx.report("Loss/D", loss)
            ctx.report("D/real", real_logits.mean())
            ctx.report("D/fake", fake_logits.mean())
        else:  # pragma: no cover - phases() declares only these
            raise ValueError(f"unknown phase {phase}")
        ctx.backward(loss)

    @torch.no_grad()
    def after_step(self, phase: str) -> None:
        G, R = self.modules["G"], self.modules["R"]
        if phase == "mle":
            R.load_state_dict(G.state_dict())
        elif phase == "G":
            r = self.rc.rollout_update
            for beta, theta in zip(R.parameters(), G.parameters()):
                beta.mul_(r).add_(theta, alpha=1 - r)
