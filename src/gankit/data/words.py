"""English words as character sequences (dataset ``words``).

The word list is ``/usr/share/dict/words`` from Debian's ``wamerican`` package
(``apt-get install wamerican``; ``scripts/install-debian-packages.sh``), or the file ``data.path`` names
(one word per line, UTF-8). Kept: lines of lowercase ASCII letters only (proper nouns,
possessives and accented words are left out) of at most ``T`` letters (``data.seq_len``,
default 10), in file order. Every tenth kept word (index 9, 19, ...) is the ``test`` split, the
others ``train``; ``all`` is both. Vocabulary: the specials then ``a .. z`` (fixed, so every
split and every word list share it); words are right-padded, so G learns where a word ends.
"""

from __future__ import annotations

import string
from pathlib import Path

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset
from gankit.data.chorales import split_every_tenth
from gankit.data.text_files import read_lines
from gankit.data.tokens import SPECIALS, encode, token_dataset
from gankit.data.transforms import apply_limit, check_data_config
from gankit.errors import ConfigError, DataError

WORD_LIST = Path("/usr/share/dict/words")
WORD_STEPS = 10
WORD_VOCAB: tuple[str, ...] = SPECIALS + tuple(string.ascii_lowercase)
INSTALL_HINT = "install Debian's wamerican (apt-get install wamerican) or set data.path"


def load_words(path: str | Path = "", max_len: int = WORD_STEPS) -> list[str]:
    """The lowercase a-z words of at most ``max_len`` letters of the word list (module docstring).
    Raises ``DataError`` naming how to install it when the list is missing, or if it has no such word."""
    source = Path(path).expanduser() if path else WORD_LIST
    if not path and not source.is_file():
        raise DataError(f"word list {source} not found: {INSTALL_HINT}")
    lowercase = set(string.ascii_lowercase)
    words = [w for w in read_lines(source, "word list") if w and len(w) <= max_len and set(w) <= lowercase]
    if not words:
        raise DataError(f"word list {source} has no word of 1..{max_len} lowercase letters a-z")
    return words


@DATASETS.register("words", "English words (wamerican /usr/share/dict/words) as letter sequences, T=10")
def build_words(cfg: DataConfig) -> Dataset:
    """The words of ``data.split`` (``data.path`` or the system list), ``data.seq_len`` letters at
    most (0 = 10), the first ``data.limit``."""
    check_data_config(cfg)
    if cfg.seq_len < 0:
        raise ConfigError(f"data.seq_len must be >= 0 (0 = {WORD_STEPS}), got {cfg.seq_len}")
    steps = cfg.seq_len or WORD_STEPS
    words = split_every_tenth(load_words(cfg.path, steps), cfg.split)
    if not words:
        raise DataError(f"the word list has no word in split {cfg.split!r}")
    tokens, lengths = encode([list(w) for w in words], WORD_VOCAB, steps)
    return token_dataset("words", apply_limit(tokens, cfg.limit), apply_limit(lengths, cfg.limit), WORD_VOCAB)
