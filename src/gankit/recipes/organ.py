"""Recipe ``organ``: ORGAN (Guimaraes, Sanchez-Lengeling, Outeiral, Farias & Aspuru-Guzik,
"Objective-Reinforced Generative Adversarial Networks (ORGAN) for Sequence Generation Models",
arXiv:1705.10843, 2017).

SeqGAN (``gankit.recipes.seqgan``: same networks, schedule, roll-outs and REINFORCE update) with
the reward of a complete sequence ``Y`` mixing the discriminator and an objective ``O``
(``gankit.objectives``, chosen by ``recipe.objective``):

    R(Y) = lambda · D(Y) + (1 - lambda) · O(Y) · u / n(Y)          (paper eq. 3, section 2)

``lambda = recipe.d_weight``. The last factor is the paper's penalty on repeated sequences
(section 2: the reward of a sequence that the batch holds ``n(Y)`` times is divided by
``n(Y)``), as the authors' code applies it (``batch_reward`` in ``model/organ.py`` of
github.com/gablg1/ORGAN): to the objective term only, times ``u``, the fraction of distinct
sequences in the batch. The batch is the ``B`` sequences scored together: the generated batch
for the last token's reward, and for each prefix length and roll-out index the ``B`` completions
(``gankit.recipes.rollout``). Sequences are compared up to their first ``<pad>``.

``lambda = 1`` is SeqGAN exactly (the objective is then never evaluated); ``lambda = 0`` is
naive RL on the objective from the MLE-pretrained G.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import torch

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.objectives import OBJECTIVES, valid_mask
from gankit.recipes.base import RECIPES, DataInfo
from gankit.recipes.seqgan import SeqGANConfig, SeqGANRecipe


@dataclass(frozen=True)
class ORGANConfig(SeqGANConfig):
    name: str = "organ"
    objective: str = "melodic_steps"  # a registered objective (gankit.objectives.OBJECTIVES)
    d_weight: float = 0.5  # lambda: reward = lambda·D + (1 - lambda)·O (1 = SeqGAN, 0 = RL on O alone)

    def validate(self) -> None:
        super().validate()
        OBJECTIVES.get(self.objective)  # ConfigError naming the registered ones
        if not 0.0 <= self.d_weight <= 1.0:
            raise ConfigError(f"recipe.d_weight must be in [0, 1], got {self.d_weight}")


def repetition_weights(tokens: torch.Tensor, group: int) -> torch.Tensor:
    """ORGAN's penalty ``u / n(Y)`` ``(M,)`` for rows ``(M, T)`` scored in consecutive batches of
    ``group`` rows: ``n(Y)`` counts the rows of ``Y``'s batch equal to it (up to the first pad),
    ``u`` is the number of distinct rows of the batch over ``group``."""
    M, T = tokens.shape
    if M % group:
        raise ValueError(f"{M} rows do not split into batches of {group}")
    rows = torch.where(valid_mask(tokens), tokens.long(), torch.zeros((), dtype=torch.long))  # (M, T)
    batch = torch.arange(M, device=tokens.device) // group  # (M,)
    keyed = torch.cat([batch[:, None], rows], dim=1)  # (M, T+1): equal only inside one batch
    unique, inverse, counts = torch.unique(keyed, dim=0, return_inverse=True, return_counts=True)
    distinct = torch.bincount(unique[:, 0], minlength=M // group)  # (M // group,)
    return (distinct[batch] / group) / counts[inverse]  # (M,)


@RECIPES.register("organ", "ORGAN (Guimaraes et al. 2017): SeqGAN with reward lambda·D + (1-lambda)·objective")
class ORGANRecipe(SeqGANRecipe):
    config_class = ORGANConfig

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc: ORGANConfig = cfg.recipe
        self.objective = OBJECTIVES.get(self.rc.objective)
        self.vocab = tuple(data.meta["vocab"])

    def objective_scores(self, tokens: torch.Tensor) -> torch.Tensor:
        """``O(Y)`` ``(M,)`` for token rows ``(M, T)``, checked to lie in [0, 1]."""
        scores = self.objective(tokens.cpu(), self.vocab).to(tokens.device, torch.float32)  # (M,)
        if scores.shape != tokens.shape[:1] or not ((scores >= 0) & (scores <= 1)).all():
            raise ConfigError(f"objective {self.rc.objective!r} must return {tokens.shape[0]} scores in [0, 1], "
                              f"got shape {tuple(scores.shape)} in [{float(scores.min())}, {float(scores.max())}]")
        return scores

    def _reward(self, tokens: torch.Tensor, group: int) -> torch.Tensor:
        """``R(Y)`` ``(M,)`` of rows ``(M, T)`` scored in batches of ``group`` (module docstring)."""
        lam = self.rc.d_weight
        if lam == 1.0:
            return self._probability_real(tokens)
        penalised = self.objective_scores(tokens) * repetition_weights(tokens, group)  # (M,)
        if lam == 0.0:
            return penalised
        return lam * self._probability_real(tokens) + (1 - lam) * penalised

    def sequence_score(self, batch_size: int) -> Callable[[torch.Tensor], torch.Tensor]:
        return functools.partial(self._reward, group=batch_size)
