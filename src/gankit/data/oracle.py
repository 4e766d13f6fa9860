"""SeqGAN's synthetic oracle: a randomly initialised LSTM as the true distribution of token sequences.

Yu, Zhang, Wang & Yu, "SeqGAN: Sequence Generative Adversarial Nets with Policy Gradient"
(AAAI 2017), section "Synthetic Data Experiments": an LSTM ``G_oracle`` with vocabulary 5,000,
hidden and embedding size 32 and parameters drawn from N(0, 1) generates 10,000 sequences of
length 20 as the training set; a model ``G_theta`` is judged by

    NLL_oracle = - E_{Y ~ G_theta} [ (1/T) sum_t log G_oracle(y_t | Y_{1:t-1}) ],

the mean per-token negative log-likelihood of its samples under the oracle (exact: the oracle's
conditionals are known). The oracle is re-created from ``data.seed`` (its parameters are never
stored). Vocabulary ids 0, 1, 2 are ``<pad>``, ``<bos>``, ``<eos>`` as in ``gankit.data.tokens``;
the oracle starts from ``<bos>`` and never emits a special id (their logits are -inf), so its
sequences use the ``vocab - 3`` ordinary ids and fill all ``T`` steps (``meta["fixed_length"]``).

Dataset ``seqgan-oracle``: split ``train`` holds the 10,000 training sequences, ``test`` another
10,000 held out (their own sampling stream), ``all`` both; ``data.seq_len`` sets ``T`` (0 = 20),
``data.limit`` keeps the first rows.
"""

from __future__ import annotations

import torch
from torch import nn

from gankit.categorical import inverse_cdf
from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset
from gankit.data.tokens import BOS_ID, EOS_ID, PAD_ID, SPECIALS, token_dataset
from gankit.data.transforms import apply_limit, check_data_config
from gankit.errors import ConfigError, DataError

ORACLE_VOCAB = 5000
ORACLE_LEN = 20
ORACLE_HIDDEN = 32
ORACLE_EMBEDDING = 32
ORACLE_TRAIN = 10_000
ORACLE_TEST = 10_000
TEST_STREAM = 1_000_003  # seed offset of the held-out sequences' sampling stream
ORACLE_DATASET = "seqgan-oracle"  # its data.seed picks the oracle itself, not only a draw
SAMPLE_CHUNK = 2000  # sequences sampled per LSTM pass (bounds the (chunk, vocab) logits)


class OracleLSTM(nn.Module):
    """The oracle: embedding ``(V, E)``, one LSTM cell of width ``H``, linear output ``H -> V``;
    every parameter ~ N(0, 1) from ``torch.Generator().manual_seed(seed)``."""

    def __init__(self, seed: int, vocab: int = ORACLE_VOCAB, hidden: int = ORACLE_HIDDEN,
                 embedding: int = ORACLE_EMBEDDING) -> None:
        super().__init__()
        if vocab <= len(SPECIALS):
            raise ConfigError(f"the oracle's vocabulary must exceed the {len(SPECIALS)} special tokens, got {vocab}")
        self.vocab = vocab
        self.embed = nn.Embedding(vocab, embedding)
        self.cell = nn.LSTMCell(embedding, hidden)
        self.out = nn.Linear(hidden, vocab)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))
        mask = torch.zeros(vocab)  # (V,)
        mask[[PAD_ID, BOS_ID, EOS_ID]] = float("-inf")
        self.register_buffer("mask", mask, persistent=False)
        self.requires_grad_(False)

    def step(self, token: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None):
        """Log-probabilities ``(B, V)`` of the next token after ``token`` ``(B,)``, and the new state."""
        h, c = self.cell(self.embed(token), state)  # (B, H) each
        return torch.log_softmax(self.out(h) + self.mask, dim=-1), (h, c)  # (B, V)

    @torch.no_grad()
    def sample(self, n: int, length: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` sequences ``(n, length)`` int64 drawn token by token from ``<bos>``."""
        chunks = []
        for start in range(0, n, SAMPLE_CHUNK):
            m = min(SAMPLE_CHUNK, n - start)
            token, state, rows = torch.full((m,), BOS_ID, dtype=torch.long), None, []
            for _ in range(length):
                logp, state = self.step(token, state)  # (m, V)
                token = inverse_cdf(logp, torch.rand(m, generator=generator))  # (m,)
                rows.append(token)
            chunks.append(torch.stack(rows, dim=1))  # (m, length)
        return torch.cat(chunks)  # (n, length)

    @torch.no_grad()
    def token_log_probs(self, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced ``log G_oracle(y_t | y_{<t})`` of every token, ``(N, T)``."""
        tokens = tokens.long()
        state, token, out = None, torch.full((tokens.shape[0],), BOS_ID, dtype=torch.long), []
        for t in range(tokens.shape[1]):
            logp, state = self.step(token, state)  # (N, V)
            out.append(logp.gather(1, tokens[:, t : t + 1]).squeeze(1))  # (N,)
            token = tokens[:, t]
        return torch.stack(out, dim=1)  # (N, T)


def nll_oracle(oracle: OracleLSTM, samples: torch.Tensor) -> float:
    """SeqGAN's ``NLL_oracle``: ``-mean_{n, t} log G_oracle(y_t | y_{<t})`` over the samples
    ``(N, T)`` (Yu et al. 2017, eq. 15, per token as in the paper's code). Raises ``DataError``
    for ids outside the vocabulary; a special id (which the oracle never emits) gives ``inf``."""
    if samples.ndim != 2 or samples.shape[0] == 0:
        raise DataError(f"NLL_oracle needs token sequences (N, T) with N > 0, got shape {tuple(samples.shape)}")
    ids = samples.long()
    if ids.min() < 0 or ids.max() >= oracle.vocab:
        raise DataError(f"token ids must be in [0, {oracle.vocab}), got {int(ids.min())}..{int(ids.max())}")
    chunks = [oracle.token_log_probs(part) for part in ids.split(SAMPLE_CHUNK)]
    return float(-torch.cat(chunks).double().mean())


def oracle_vocab(size: int = ORACLE_VOCAB) -> tuple[str, ...]:
    """The specials, then ``w3 .. w{size-1}`` (token id ``i`` is ``"w{i}"``)."""
    return SPECIALS + tuple(f"w{i}" for i in range(len(SPECIALS), size))


def oracle_split(seed: int, split: str, length: int = ORACLE_LEN) -> torch.Tensor:
    """Sequences ``(10000, length)`` of the oracle of ``seed``: ``"train"`` drawn with a generator
    seeded ``seed``, ``"test"`` (held out) with ``seed + TEST_STREAM``, ``"all"`` both."""
    if split == "all":
        return torch.cat([oracle_split(seed, "train", length), oracle_split(seed, "test", length)])
    gen = torch.Generator().manual_seed(seed + (TEST_STREAM if split == "test" else 0))
    return OracleLSTM(seed).sample(ORACLE_TRAIN if split == "train" else ORACLE_TEST, length, gen)


@DATASETS.register(ORACLE_DATASET, "SeqGAN's synthetic oracle LSTM (vocab 5000, T 20): 10,000 token sequences")
def build_oracle(cfg: DataConfig) -> Dataset:
    """Sequences of the oracle fixed by ``data.seed`` (``data.split``, ``data.seq_len``, ``data.limit``)."""
    check_data_config(cfg)
    if cfg.seq_len < 0:
        raise ConfigError(f"data.seq_len must be >= 0 (0 = {ORACLE_LEN}), got {cfg.seq_len}")
    tokens = apply_limit(oracle_split(cfg.seed, cfg.split, cfg.seq_len or ORACLE_LEN), cfg.limit)  # (N, T)
    lengths = torch.full((tokens.shape[0],), tokens.shape[1], dtype=torch.long)  # (N,)
    ds = token_dataset("seqgan-oracle", tokens, lengths, oracle_vocab())
    ds.meta.update(fixed_length=True, oracle_seed=cfg.seed)
    return ds
