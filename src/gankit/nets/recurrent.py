"""Token-sequence networks (``model.arch=lstm``): an LSTM generator policy and SeqGAN's CNN discriminator.

Yu et al. 2017 (SeqGAN): G is an LSTM language model ``G_theta(y_t | Y_{1:t-1})`` started from
``<bos>``; D is the CNN text classifier of Kim 2014 / Zhang & LeCun 2015 as used in SeqGAN:
token embeddings, convolutions of several widths over time, max-over-time pooling, one highway
layer (Srivastava et al. 2015), dropout and a logit (higher = more real).

G samples by the inverse CDF of each step's softmax: ``y_t = min{i : sum_{j<=i} p_j > u_t}``
with ``u_t ~ U[0, 1)``, so a batch of uniforms ``(n, T)`` is a latent that fixes a sample.
Padding (id 0) is an ordinary token G learns (a row's length is the position of its first pad);
``<bos>`` and ``<eos>`` never occur in the data rows and G never emits them, nor pad when the
data are fixed-length. Networks are built by the sequence recipes (``mle``, ``seqgan``), which
know the vocabulary, through ``build_policy`` and ``build_sequence_cnn``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gankit.categorical import inverse_cdf
from gankit.data.tokens import BOS_ID, EOS_ID, PAD_ID
from gankit.errors import ConfigError, ShapeError
from gankit.nets.base import DOutput, NetSpec
from gankit.nets.config import ModelConfig
from gankit.nets.registry import NETWORKS, Family

LSTMState = tuple[torch.Tensor, torch.Tensor]
# SeqGAN's discriminator (the paper's code): filter widths and the number of filters of each width
SEQGAN_WIDTHS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
SEQGAN_FILTERS = (100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160)


class LSTMPolicy(nn.Module):
    """``G_theta``: Embedding(V, E) -> LSTM(E, H, layers) -> Linear(H, V), from ``<bos>``.

    ``banned`` ids get logit -inf (never sampled, never assigned probability)."""

    def __init__(self, vocab: int, seq_len: int, embedding: int, hidden: int, layers: int,
                 banned: Sequence[int] = (BOS_ID, EOS_ID)) -> None:
        super().__init__()
        self.vocab, self.seq_len = int(vocab), int(seq_len)
        self.embed = nn.Embedding(vocab, embedding)
        self.lstm = nn.LSTM(embedding, hidden, layers, batch_first=True)
        self.out = nn.Linear(hidden, vocab)
        mask = torch.zeros(vocab)  # (V,)
        mask[list(banned)] = float("-inf")
        self.register_buffer("mask", mask, persistent=False)

    def check_tokens(self, tokens: torch.Tensor) -> None:
        if tokens.ndim != 2 or tokens.shape[1] != self.seq_len:
            raise ShapeError(f"the LSTM policy takes token ids (B, {self.seq_len}), got {tuple(tokens.shape)}")

    def logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits ``(B, T, V)``: step ``t`` predicts ``tokens[:, t]`` from ``<bos>, tokens[:, :t]``."""
        self.check_tokens(tokens)
        bos = tokens.new_full((tokens.shape[0], 1), BOS_ID)
        inputs = torch.cat([bos, tokens[:, :-1]], dim=1).long()  # (B, T)
        h, _ = self.lstm(self.embed(inputs))  # (B, T, H)
        return self.out(h) + self.mask  # (B, T, V)

    def log_probs(self, tokens: torch.Tensor) -> torch.Tensor:
        """``log G_theta(y_t | y_{<t})`` of every token, ``(B, T)``."""
        logp = torch.log_softmax(self.logits(tokens), dim=-1)  # (B, T, V)
        return logp.gather(2, tokens.long().unsqueeze(2)).squeeze(2)  # (B, T)

    def step(self, token: torch.Tensor, state: LSTMState | None) -> tuple[torch.Tensor, LSTMState]:
        """Logits ``(B, V)`` of the token after ``token`` ``(B,)`` and the new state."""
        h, state = self.lstm(self.embed(token.long()).unsqueeze(1), state)  # (B, 1, H)
        return self.out(h.squeeze(1)) + self.mask, state  # (B, V)

    def sample(self, uniforms: torch.Tensor) -> torch.Tensor:
        """Sequences ``(n, T)`` int64 drawn autoregressively from ``<bos>`` by the inverse CDF of
        ``uniforms`` ``(n, T)`` in [0, 1) (``torch.rand(n, T, generator=...)``)."""
        if uniforms.ndim != 2 or uniforms.shape[1] != self.seq_len:
            raise ShapeError(f"sampling takes uniforms (n, {self.seq_len}), got {tuple(uniforms.shape)}")
        token = torch.full((uniforms.shape[0],), BOS_ID, dtype=torch.long, device=uniforms.device)
        state, rows = None, []
        for t in range(self.seq_len):
            logits, state = self.step(token, state)  # (n, V)
            token = inverse_cdf(logits, uniforms[:, t])  # (n,)
            rows.append(token)
        return torch.stack(rows, dim=1)  # (n, T)


class Highway(nn.Module):
    """``y = t * relu(W_h x) + (1 - t) * x`` with ``t = sigmoid(W_t x)`` (Srivastava et al. 2015)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.transform = nn.Linear(width, width)
        self.gate = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.sigmoid(self.gate(x))  # (B, F)
        return t * F.relu(self.transform(x)) + (1 - t) * x  # (B, F)


class SequenceCNN(nn.Module):
    """SeqGAN's D: Embedding(V, E); per width ``w`` a Conv1d(E, filters, w) + ReLU, max over time;
    the pooled features concatenated ``(B, sum filters)``, a highway layer, dropout, Linear -> 1."""

    def __init__(self, vocab: int, seq_len: int, embedding: int, widths: Sequence[int], filters: Sequence[int],
                 dropout: float) -> None:
        super().__init__()
        self.seq_len = int(seq_len)
        self.embed = nn.Embedding(vocab, embedding)
        self.convs = nn.ModuleList(nn.Conv1d(embedding, f, w) for w, f in zip(widths, filters))
        width = sum(filters)
        self.highway = Highway(width)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width, 1)

    def forward(self, tokens: torch.Tensor, c: torch.Tensor | None = None) -> DOutput:
        if tokens.ndim != 2 or tokens.shape[1] != self.seq_len:
            raise ShapeError(f"the sequence CNN takes token ids (B, {self.seq_len}), got {tuple(tokens.shape)}")
        e = self.embed(tokens.long()).transpose(1, 2)  # (B, E, T)
        pooled = torch.cat([F.relu(conv(e)).amax(dim=2) for conv in self.convs], dim=1)  # (B, F)
        features = self.dropout(self.highway(pooled))  # (B, F)
        return DOutput(logits=self.head(features).squeeze(1), features=features)  # logits (B,)


@dataclass(frozen=True)
class LSTMConfig(ModelConfig):
    """``[model]`` keys of the token-sequence family (``model.arch=lstm``); SeqGAN's sizes by default."""

    arch: str = "lstm"
    embedding: int = 32  # G: token embedding width (SeqGAN: 32)
    hidden: int = 32  # G: LSTM width (SeqGAN: 32)
    layers: int = 1  # G: stacked LSTM layers
    d_embedding: int = 64  # D: token embedding width (SeqGAN: 64)
    d_widths: tuple[int, ...] = SEQGAN_WIDTHS  # D: convolution widths over time (each <= the sequence length)
    d_filters: tuple[int, ...] = SEQGAN_FILTERS  # D: filters per width
    d_dropout: float = 0.25  # D: dropout before the logit (SeqGAN: keep probability 0.75)

    def check(self) -> None:
        for key in ("embedding", "hidden", "layers", "d_embedding"):
            if getattr(self, key) < 1:
                raise ConfigError(f"model.{key} must be >= 1, got {getattr(self, key)}")
        if not self.d_widths or len(self.d_widths) != len(self.d_filters):
            raise ConfigError(f"model.d_widths and model.d_filters need the same non-zero length, got "
                              f"{len(self.d_widths)} and {len(self.d_filters)}")
        if min(self.d_widths) < 1 or min(self.d_filters) < 1:
            raise ConfigError("model.d_widths and model.d_filters must be >= 1")
        if not 0.0 <= self.d_dropout < 1.0:
            raise ConfigError(f"model.d_dropout must be in [0, 1), got {self.d_dropout}")
        if self.conditional:
            raise ConfigError("model.arch=lstm has no conditional networks: set model.conditional=false")


def build_policy(cfg: Any, vocab: int, seq_len: int, fixed_length: bool = False) -> LSTMPolicy:
    """G for sequences of ``seq_len`` ids below ``vocab``; it never emits pad when the data are ``fixed_length``."""
    banned = (PAD_ID, BOS_ID, EOS_ID) if fixed_length else (BOS_ID, EOS_ID)
    return LSTMPolicy(vocab, seq_len, cfg.embedding, cfg.hidden, cfg.layers, banned)


def build_sequence_cnn(cfg: Any, vocab: int, seq_len: int) -> SequenceCNN:
    """D for sequences of ``seq_len`` ids below ``vocab``; ``ConfigError`` for a width longer than them."""
    if max(cfg.d_widths) > seq_len:
        raise ConfigError(f"model.d_widths has width {max(cfg.d_widths)}, longer than the sequences ({seq_len} "
                          f"tokens); drop the widths above {seq_len}")
    return SequenceCNN(vocab, seq_len, cfg.d_embedding, cfg.d_widths, cfg.d_filters, cfg.d_dropout)


def _build_from_spec(cfg: Any, spec: NetSpec) -> tuple[nn.Module, nn.Module]:
    raise ConfigError("model.arch=lstm builds token-sequence networks for the sequence recipes (mle, seqgan); "
                      "choose one of them with recipe.name")


NETWORKS.add("lstm", Family(LSTMConfig, _build_from_spec), "LSTM policy G and SeqGAN's CNN D over token sequences")
