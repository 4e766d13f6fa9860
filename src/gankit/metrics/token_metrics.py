"""Metrics of generated token sequences, in the registry: ``bleu``, ``self_bleu``, ``nll_oracle``.

Samples are token ids ``(N, T)`` (a sequence run's samples, or a token dataset's ``tokens``);
``bleu`` takes the real sequences as references (a run's default: its own dataset's ``test``
split), ``nll_oracle`` scores samples under SeqGAN's oracle LSTM of the real data's seed
(``gankit.data.oracle``).
"""

from __future__ import annotations

from typing import Any

from gankit.config import DataConfig
from gankit.data.oracle import ORACLE_DATASET, OracleLSTM, nll_oracle
from gankit.errors import MetricError
from gankit.metrics.context import EvalContext
from gankit.metrics.registry import _result_dict, register_metric
from gankit.metrics.statistics.bleu import bleu, self_bleu

BLEU_SAMPLES = 500  # generated sequences scored against every reference (sentence BLEU is per pair)
SELF_BLEU_SAMPLES = 200  # self-BLEU compares every pair of generated sequences


def _check_tokens(ctx: EvalContext) -> None:
    x = ctx.fake_all.x
    if x.ndim != 2 or not bool((x == x.round()).all()) or bool((x < 0).any()):
        raise MetricError(f"this metric scores token sequences (N, T) of ids, got samples of shape {tuple(x.shape)}")


def _oracle_seed(ctx: EvalContext) -> int:
    _check_tokens(ctx)
    src = ctx.real_source
    if isinstance(src, DataConfig) and src.name == ORACLE_DATASET:
        return int(src.seed)
    if isinstance(src, str) and src == ORACLE_DATASET:
        return 0
    raise MetricError(f"nll_oracle scores samples under SeqGAN's oracle: evaluate a run trained on {ORACLE_DATASET} "
                      f"or pass --real {ORACLE_DATASET} (oracle seed 0)")


@register_metric("bleu", "fake", bleu, 2, protocol_n=BLEU_SAMPLES, check=_check_tokens, uses_real=True,
                 description="BLEU-2/3/4 of generated token sequences vs the real ones (NLTK, smoothing method1)")
def _bleu(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    return _result_dict(bleu(ctx.fake(n).x, ctx.real().x, **opts))


@register_metric("self_bleu", "fake", self_bleu, 1, protocol_n=SELF_BLEU_SAMPLES, check=_check_tokens,
                 description="self-BLEU-2/3/4 of generated token sequences, each vs the others (diversity, Texygen)")
def _self_bleu(ctx: EvalContext, n: int, opts: dict[str, Any]) -> dict[str, Any]:
    return _result_dict(self_bleu(ctx.fake(n).x, **opts))


@register_metric("nll_oracle", "fake", nll_oracle, 2, check=_oracle_seed, uses_real=True,
                 description="SeqGAN's NLL_oracle: per-token NLL of the samples under the oracle LSTM")
def _nll_oracle(ctx: EvalContext, n: int, opts: dict[str, Any]) -> float:
    return nll_oracle(OracleLSTM(_oracle_seed(ctx)), ctx.fake(n).x.long())
