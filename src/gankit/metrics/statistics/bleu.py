"""BLEU of generated token sequences against real ones, and self-BLEU (diversity).

BLEU-n (Papineni et al., "BLEU: a Method for Automatic Evaluation of Machine Translation",
ACL 2002) of a hypothesis against a set of references is

    BLEU-n = BP · exp( sum_{k=1..n} (1/n) log p_k ),   BP = min(1, exp(1 - r / c)),

``p_k`` the clipped k-gram precision, ``c`` the hypothesis length, ``r`` the closest reference
length. As in the sequence-GAN literature (SeqGAN, LeakGAN; the Texygen benchmark of Zhu et al.
2018), each generated sequence is scored with NLTK's ``sentence_bleu`` against **all** the
reference sequences, uniform weights ``1/n`` and ``SmoothingFunction().method1`` (a zero
k-gram count becomes ``epsilon = 0.1``), and the scores are averaged over generated sequences.
Self-BLEU (Texygen) scores each generated sequence against all the other generated ones: high
self-BLEU = little diversity. Sequences are token ids ``(N, T)``; a row ends at its first pad
(id 0). NLTK needs no downloaded data for this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

PAD_ID = 0
ORDERS = (2, 3, 4)


@dataclass(frozen=True)
class BLEUResult:
    bleu2: float
    bleu3: float
    bleu4: float
    n_hypotheses: int
    n_references: int


def token_rows(tokens: Any) -> list[list[int]]:
    """Each row of ``tokens`` ``(N, T)`` (ids) up to its first pad, as a list of ints."""
    array = np.asarray(tokens).astype(np.int64)
    if array.ndim != 2:
        raise ValueError(f"BLEU needs token ids of shape (N, T), got shape {array.shape}")
    rows = []
    for row in array.tolist():
        rows.append(row[: row.index(PAD_ID)] if PAD_ID in row else row)
    return rows


def _mean_sentence_bleu(pairs: Sequence[tuple[list[int], list[list[int]]]], order: int) -> float:
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    smooth = SmoothingFunction().method1
    weights = (1.0 / order,) * order
    scores = [sentence_bleu(refs, hyp, weights, smoothing_function=smooth) for hyp, refs in pairs]
    return float(np.mean(scores))


def bleu(fake: Any, real: Any) -> BLEUResult:
    """BLEU-2, -3, -4 of each generated row of ``fake`` ``(N, T)`` against all rows of ``real``
    ``(M, T)`` (module docstring), averaged over ``fake``."""
    hyps, refs = token_rows(fake), token_rows(real)
    if not hyps or not refs:
        raise ValueError(f"BLEU needs generated and reference sequences, got {len(hyps)} and {len(refs)}")
    pairs = [(h, refs) for h in hyps]
    b2, b3, b4 = (_mean_sentence_bleu(pairs, n) for n in ORDERS)
    return BLEUResult(b2, b3, b4, len(hyps), len(refs))


def self_bleu(fake: Any) -> BLEUResult:
    """Self-BLEU-2, -3, -4 (Zhu et al., "Texygen", SIGIR 2018): each row of ``fake`` ``(N, T)``
    scored by ``sentence_bleu`` against the ``N - 1`` others, averaged; 1 = no diversity."""
    hyps = token_rows(fake)
    if len(hyps) < 2:
        raise ValueError(f"self-BLEU needs at least 2 generated sequences, got {len(hyps)}")
    pairs = [(h, hyps[:i] + hyps[i + 1 :]) for i, h in enumerate(hyps)]
    b2, b3, b4 = (_mean_sentence_bleu(pairs, n) for n in ORDERS)
    return BLEUResult(b2, b3, b4, len(hyps), len(hyps) - 1)
