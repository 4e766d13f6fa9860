"""Token sequences: a vocabulary, text files with one sequence per line, and a built-in grammar.

Fields: ``tokens`` int64 ``(N, T)`` (token ids, right-padded with 0) and ``lengths`` int64
``(N,)`` (real tokens per row, padding excluded). ``meta["vocab"]`` is the token list: id ``i``
is ``vocab[i]``. Ids 0, 1, 2 are always ``<pad>``, ``<bos>``, ``<eos>``; the data rows hold
neither ``<bos>`` nor ``<eos>`` (a recipe that feeds a start token or learns to stop prepends
``BOS_ID`` / writes ``EOS_ID`` at ``lengths``), then come the data's tokens in sorted
(code-point) order, so the vocabulary does not depend on the order of the lines.

Sources (all held in memory):

* a UTF-8 text file, one sequence per line, split per character or per whitespace-separated
  word. Blank lines are skipped (errors still name the line in the file). A line with more
  tokens than the limit ``max_len`` is an error, never truncated silently: truncating would
  hand the discriminator sequences that do not occur in the data. ``max_len = 0`` takes the
  longest line as ``T``.
* ``sample_sums``: the synthetic grammar ``a+b=c`` over decimal digits with ``a, b`` uniform in
  ``0..99`` and ``c = a + b`` (char level, ``T = 9``). Whether a generated sequence is valid
  arithmetic (``is_valid_sum``) is a direct measure of what a sequence GAN learned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset
from gankit.data.text_files import read_lines
from gankit.data.transforms import apply_limit, check_data_config
from gankit.errors import ConfigError, DataError

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
SPECIALS: tuple[str, ...] = (PAD, BOS, EOS)
PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
TOKENIZERS: tuple[str, ...] = ("char", "word")

SUM_MAX_OPERAND = 99
SUM_MAX_LEN = 9  # "99+99=198"
SUM_ALPHABET = "+0123456789="
_SUM_PATTERN = re.compile(r"(\d+)\+(\d+)=(\d+)")


def tokenize(line: str, level: str) -> list[str]:
    """``line`` split into tokens: each character (``"char"``, spaces included) or each
    whitespace-separated word (``"word"``)."""
    if level == "char":
        return list(line)
    if level == "word":
        return line.split()
    raise ConfigError(f"data.tokenize must be one of {', '.join(TOKENIZERS)}, got {level!r}")


def build_vocab(sequences: Iterable[Sequence[str]]) -> tuple[str, ...]:
    """``SPECIALS`` followed by every distinct token of ``sequences`` in sorted order."""
    seen: set[str] = set()
    for seq in sequences:
        seen.update(seq)
    return SPECIALS + tuple(sorted(seen - set(SPECIALS)))


def encode(
    sequences: Sequence[Sequence[str]], vocab: Sequence[str], max_len: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(tokens, lengths)``: ``tokens[i, :len_i]`` are the ids of ``sequences[i]`` in ``vocab``,
    the rest ``PAD_ID``; ``T = max_len`` or, when 0, the longest sequence (at least 1).

    Raises ``DataError`` for a token not in ``vocab`` or a sequence longer than ``max_len``.
    """
    index = {tok: i for i, tok in enumerate(vocab)}
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    longest = int(lengths.max()) if len(lengths) else 0
    if max_len and longest > max_len:
        row = int(np.argmax(lengths > max_len))
        raise DataError(f"sequence {row} has {lengths[row]} tokens, more than the limit {max_len}")
    steps = max_len or max(longest, 1)
    try:
        flat = np.fromiter((index[t] for s in sequences for t in s), dtype=np.int64, count=int(lengths.sum()))
    except KeyError as exc:
        raise DataError(f"token {exc.args[0]!r} is not in the vocabulary") from None
    mask = np.arange(steps)[None, :] < lengths[:, None]  # (N, T)
    tokens = np.full((len(sequences), steps), PAD_ID, dtype=np.int64)  # (N, T)
    tokens[mask] = flat  # row-major order of the mask = concatenation order of the sequences
    return torch.from_numpy(tokens), torch.from_numpy(lengths)


def decode(tokens: torch.Tensor, lengths: torch.Tensor, vocab: Sequence[str]) -> list[list[str]]:
    """The token strings of each row: ``vocab[tokens[i, j]]`` for ``j < lengths[i]``."""
    rows = tokens.tolist()
    return [[vocab[t] for t in row[:n]] for row, n in zip(rows, lengths.tolist())]


def load_text_sequences(
    path: str | Path, level: str = "char", max_len: int = 0
) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """``(tokens, lengths, vocab)`` of a text file with one sequence per non-blank line.

    ``level`` is ``"char"`` or ``"word"`` (see ``tokenize``); ``max_len`` limits the tokens per
    line (0 = the longest line). Raises ``DataError`` naming the file and line for a missing,
    empty or non-UTF-8 file, a line over ``max_len``, or a line containing a special token.
    """
    if max_len < 0:
        raise ConfigError(f"data.seq_len must be >= 0 (0 = the longest line), got {max_len}")
    tokenize("", level)  # checks level
    sequences: list[list[str]] = []
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        toks = tokenize(line, level)
        if max_len and len(toks) > max_len:
            raise DataError(
                f"{path} line {number}: {len(toks)} {level} tokens, more than data.seq_len={max_len} "
                "(raise it, or 0 = the longest line)"
            )
        special = set(toks) & set(SPECIALS)
        if special:
            raise DataError(f"{path} line {number}: contains the reserved token {min(special)!r}")
        sequences.append(toks)
    if not sequences:
        raise DataError(f"text file {Path(path).expanduser()} has no sequences (empty or only blank lines)")
    vocab = build_vocab(sequences)
    tokens, lengths = encode(sequences, vocab, max_len)
    return tokens, lengths, vocab


def sum_vocab() -> tuple[str, ...]:
    """The vocabulary of ``sample_sums``: the specials, then ``+ 0..9 =`` (code-point order)."""
    return build_vocab([SUM_ALPHABET])


def sample_sums(n: int, generator: torch.Generator) -> list[str]:
    """``n`` strings ``"a+b=c"`` with ``a, b`` independent and uniform in ``0..99``, ``c = a + b``."""
    operands = torch.randint(0, SUM_MAX_OPERAND + 1, (n, 2), generator=generator).tolist()  # (n, 2)
    return [f"{a}+{b}={a + b}" for a, b in operands]


def is_valid_sum(text: str) -> bool:
    """True if ``text`` is ``"a+b=c"`` with decimal numbers and ``int(a) + int(b) == int(c)``."""
    match = _SUM_PATTERN.fullmatch(text)
    return bool(match) and int(match.group(1)) + int(match.group(2)) == int(match.group(3))


def token_dataset(name: str, tokens: torch.Tensor, lengths: torch.Tensor, vocab: Sequence[str]) -> Dataset:
    """A one-group dataset with fields ``tokens`` ``(N, T)`` and ``lengths`` ``(N,)`` (int64) and
    ``meta`` ``{"vocab": [...], "pad_id": 0, "bos_id": 1, "eos_id": 2}``."""
    meta = {"vocab": list(vocab), "pad_id": PAD_ID, "bos_id": BOS_ID, "eos_id": EOS_ID}
    return Dataset(name, groups={"main": {"tokens": tokens, "lengths": lengths}}, meta=meta)


@DATASETS.register("text", "token sequences from a UTF-8 text file, one per line (data.path, data.tokenize)")
def build_text(cfg: DataConfig) -> Dataset:
    """The lines of ``data.path`` split per ``data.tokenize``, at most ``data.seq_len`` tokens
    each (0 = the longest line), the first ``data.limit`` sequences when > 0."""
    check_data_config(cfg)
    if not cfg.path:
        raise ConfigError("data.path must name the text file (one sequence per line) for dataset 'text'")
    tokens, lengths, vocab = load_text_sequences(cfg.path, cfg.tokenize, cfg.seq_len)
    return token_dataset("text", apply_limit(tokens, cfg.limit), apply_limit(lengths, cfg.limit), vocab)


@DATASETS.register("sums", "synthetic token sequences a+b=c, a, b uniform in 0..99 (data.n_samples)")
def build_sums(cfg: DataConfig) -> Dataset:
    """``data.n_samples`` sums drawn with ``data.seed``, char-level, padded to ``data.seq_len``
    (0 = 9, the longest sum)."""
    check_data_config(cfg)
    if cfg.n_samples <= 0:
        raise ConfigError(f"data.n_samples must be > 0, got {cfg.n_samples}")
    if cfg.seq_len and cfg.seq_len < SUM_MAX_LEN:
        raise ConfigError(f"data.seq_len must be 0 or >= {SUM_MAX_LEN} for sums, got {cfg.seq_len}")
    texts = sample_sums(cfg.n_samples, torch.Generator().manual_seed(cfg.seed))
    tokens, lengths = encode([list(t) for t in texts], sum_vocab(), cfg.seq_len or SUM_MAX_LEN)
    return token_dataset("sums", apply_limit(tokens, cfg.limit), apply_limit(lengths, cfg.limit), sum_vocab())
