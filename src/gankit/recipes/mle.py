"""Recipe ``mle``: an LSTM language model trained by teacher forcing (maximum likelihood).

The baseline of SeqGAN (Yu et al. 2017) and the pre-training every sequence GAN starts from:
``L = -(1/(B T)) sum_{b,t} log G_theta(y_{b,t} | y_{b,<t})`` on real token sequences.
``SequenceRecipe`` holds what every token-sequence recipe shares: the vocabulary and length
read from the data, G built by ``model.arch=lstm``, uniforms ``(n, T)`` as latents
(``gankit.nets.recurrent``) and token ids as samples (no picture: run artifacts draw none;
``sample_text`` decodes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from gankit.config import ExperimentConfig
from gankit.data.tokens import PAD_ID, SPECIALS, decode
from gankit.errors import ConfigError
from gankit.losses.policy import sequence_cross_entropy
from gankit.nets.recurrent import build_policy
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, Recipe, StepContext
from gankit.train.loader import Batch
from gankit.train.phases import Phase


class SequenceRecipe(Recipe):
    """Shared parts of the token-sequence recipes: ``G`` is an ``LSTMPolicy`` over the data's
    vocabulary (``meta["vocab"]``) and length ``T``."""

    d_scores = None
    model_arch = ("lstm", "token sequences")
    data_fields = ("tokens", "lengths")
    target_field = "tokens"

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        vocab = data.meta.get("vocab")
        if not vocab or len(data.sample_shape) != 1:
            raise ConfigError(f"recipe {cfg.recipe.name} needs token sequences (a dataset with meta vocab and "
                              f"tokens (N, T): seqgan-oracle, sums, text), got samples of shape "
                              f"{tuple(data.sample_shape)}")
        self.seq_len = int(data.sample_shape[0])
        self.vocab_size = len(vocab)
        self.modules["G"] = build_policy(cfg.model, self.vocab_size, self.seq_len, bool(data.meta.get("fixed_length")))

    @property
    def z_dim(self) -> int:
        return self.seq_len

    def latent(self, n: int, generator: torch.Generator | None = None,
               device: torch.device | str = "cpu") -> torch.Tensor:
        """Uniforms ``(n, T)`` in [0, 1): the inverse-CDF draws of one sample each."""
        return torch.rand(n, self.seq_len, generator=generator).to(device)

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Token ids ``(n, T)`` sampled by G from the uniforms ``z``."""
        return nets["G"].sample(z)

    def sample_text(self, nets: Mapping[str, nn.Module], z: torch.Tensor) -> list[str]:
        """Samples of the uniforms ``z`` as text (``decode_text``)."""
        return self.decode_text(self.sample(nets, z))

    def decode_text(self, tokens: torch.Tensor) -> list[str]:
        """Token rows ``(n, T)`` as text: each row's tokens up to its first pad, joined by the
        data's ``meta["token_separator"]`` when it has one (chorales: ``", "``, a note list),
        else by nothing when every token of the vocabulary is one character, else by a space."""
        vocab = list(self.data.meta["vocab"])
        tokens = tokens.long().cpu()  # (n, T)
        pad = tokens == PAD_ID  # (n, T)
        lengths = torch.where(pad.any(dim=1), pad.int().argmax(dim=1), tokens.shape[1])  # (n,)
        sep = self.data.meta.get("token_separator", "" if all(len(t) == 1 for t in vocab[len(SPECIALS):]) else " ")
        return [sep.join(row) for row in decode(tokens, lengths, vocab)]


@dataclass(frozen=True)
class MLEConfig:
    name: str = "mle"

    def validate(self) -> None:
        pass


@RECIPES.register("mle", "LSTM language model by teacher forcing (maximum likelihood; SeqGAN's baseline)")
class MLERecipe(SequenceRecipe):
    """One phase ``G``: next-token cross-entropy on a batch of real sequences."""

    config_class = MLEConfig

    def phases(self) -> list[Phase]:
        return [Phase("G", ("G",), "G")]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        return {"G": OptimizerSpec(("G",), self.cfg.optim.lr_g)}

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        tokens = batch["tokens"]  # (B, T)
        loss = sequence_cross_entropy(self.modules["G"].logits(tokens), tokens)
        ctx.report("Loss/G", loss)
        ctx.backward(loss)
