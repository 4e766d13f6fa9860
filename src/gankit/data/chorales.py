"""Bach chorale melodies from music21's corpus: token sequences (``chorales``) and continuous
sequences (``chorales-continuous``).

The melody of a chorale is its soprano part (the part whose name contains "Soprano"; chorales
without one are skipped), read with music21 from the MusicXML files of
``music21.corpus.getComposer("bach")`` in path order: each note is ``(pitch, quarter length)``
(the top note of a chord; grace notes, of length 0, dropped), each rest ``("rest", length)``.
Parsing takes about a minute, so the melodies are cached once as JSON in
``$XDG_CACHE_HOME/gankit/data/chorales-music21-<version>.json`` (written atomically).

Every melody is cut into consecutive windows of ``T`` notes (``data.seq_len``, default 16; the
remainder shorter than ``T`` is dropped). Split by chorale, so no chorale is in both: every
tenth melody (index 9, 19, ...) is ``test``, the others ``train``; ``all`` is both.

* ``chorales``: one token per (pitch, duration) pair, written ``"<pitch> <quarter length>"``
  (``"G4 0.5"``, ``"E-5 1"``, ``"rest 1"``; music21's pitch names, ``-`` is flat), so G
  chooses a note and its length together. The vocabulary is the specials then every token of
  all windows of both splits (the splits share it), sorted. Fields ``tokens`` / ``lengths`` as
  in ``gankit.data.tokens``; every window fills its ``T`` steps (``meta["fixed_length"]``).
  ``meta["token_separator"] = ", "``: samples read as note lists ``"G4 0.5, A4 0.5, B4 1"``.
* ``chorales-continuous``: field ``x`` float32 ``(N, T, 2)``: MIDI pitch number and quarter
  length of ``T`` consecutive notes (rests dropped first), not normalised.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from gankit.atomic import atomic_write
from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset
from gankit.data.mnist import cache_dir
from gankit.data.tokens import build_vocab, encode, token_dataset
from gankit.data.transforms import apply_limit, check_data_config
from gankit.errors import ConfigError, DataError

CHORALE_STEPS = 16
TEST_EVERY = 10  # every tenth chorale is held out
REST = "rest"
NOTE_LIST_SEPARATOR = ", "
MUSICXML = (".mxl", ".xml", ".musicxml")

Melody = list[tuple[str, int, float]]  # (pitch name or "rest", MIDI number or -1, quarter length)


def _soprano_melody(score: Any) -> Melody | None:
    """``(name, midi, quarter length)`` of each note and rest of the soprano part, or ``None``."""
    parts = [p for p in score.parts if "soprano" in (p.partName or p.id or "").lower()]
    if not parts:
        return None
    melody: Melody = []
    for element in parts[0].flatten().notesAndRests:
        length = float(element.quarterLength)
        if length <= 0:  # grace notes
            continue
        if element.isRest:
            melody.append((REST, -1, length))
        else:
            pitch = max(element.pitches, key=lambda p: p.midi)  # a chord: its top note
            melody.append((pitch.nameWithOctave, int(pitch.midi), length))
    return melody or None


def _music21() -> Any:
    try:
        import music21
    except ImportError:
        raise DataError("the chorales need music21: pip install 'gankit[sequences]'") from None
    return music21


def chorale_files() -> list[Path]:
    """The MusicXML files of music21's Bach corpus, in path order."""
    _music21()
    from music21 import corpus

    return [Path(p) for p in sorted(corpus.getComposer("bach"), key=str) if Path(p).suffix in MUSICXML]


def parse_melodies(paths: list[Path]) -> list[dict[str, Any]]:
    """``{"source": file stem, "notes": melody}`` of each file of ``paths`` with a soprano part."""
    from music21 import converter

    melodies = []
    for path in paths:
        melody = _soprano_melody(converter.parse(path))
        if melody is not None:
            melodies.append({"source": path.stem, "notes": melody})
    return melodies


def melody_cache_path() -> Path:
    """``$XDG_CACHE_HOME/gankit/data/chorales-music21-<version>.json``."""
    return cache_dir() / f"chorales-music21-{_music21().__version__}.json"


def write_melody_cache(melodies: list[dict[str, Any]]) -> Path:
    """Store ``parse_melodies``' output as the cache ``chorale_melodies`` reads (atomically)."""
    path = melody_cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w") as fh:
        json.dump({"music21": _music21().__version__, "melodies": melodies}, fh)
    return path


def chorale_melodies() -> list[Melody]:
    """Every chorale's soprano melody (module docstring), parsed once and cached as JSON."""
    path = melody_cache_path()
    if path.is_file():
        try:
            melodies = json.loads(path.read_text(encoding="utf-8"))["melodies"]
        except (ValueError, KeyError, OSError):
            melodies = None  # a damaged cache is rebuilt
        if melodies is not None:
            return [[(str(n), int(m), float(q)) for n, m, q in item["notes"]] for item in melodies]
    melodies = parse_melodies(chorale_files())
    if not melodies:
        raise DataError("music21's corpus holds no Bach chorale with a soprano part")
    write_melody_cache(melodies)
    return [[(n, m, q) for n, m, q in item["notes"]] for item in melodies]


def split_every_tenth(items: list[Any], split: str) -> list[Any]:
    """The items of ``split``: ``test`` = indices ``9, 19, ...``, ``train`` = the rest, ``all``."""
    if split == "all":
        return list(items)
    held_out = split == "test"
    return [m for i, m in enumerate(items) if (i % TEST_EVERY == TEST_EVERY - 1) == held_out]


def windows(sequence: list[Any], steps: int) -> list[list[Any]]:
    """Consecutive non-overlapping windows of ``steps`` items (a shorter remainder is dropped)."""
    return [sequence[i : i + steps] for i in range(0, len(sequence) - steps + 1, steps)]


def note_token(name: str, length: float) -> str:
    """``"<pitch> <quarter length>"``, the length in at most 4 significant digits (``"C#4 0.5"``)."""
    return f"{name} {length:.4g}"


def _steps(cfg: DataConfig) -> int:
    check_data_config(cfg)
    if cfg.seq_len < 0 or cfg.seq_len == 1:
        raise ConfigError(f"data.seq_len must be 0 (= {CHORALE_STEPS}) or >= 2 notes, got {cfg.seq_len}")
    return cfg.seq_len or CHORALE_STEPS


@DATASETS.register("chorales", "Bach chorale melodies (music21 corpus, soprano) as (pitch, duration) tokens, T=16")
def build_chorales(cfg: DataConfig) -> Dataset:
    """Token windows of ``T`` notes (``data.seq_len``) of ``data.split``, first ``data.limit``."""
    steps = _steps(cfg)
    melodies = [[note_token(n, q) for n, _, q in melody] for melody in chorale_melodies()]
    vocab = build_vocab(w for m in melodies for w in windows(m, steps))
    rows = [w for m in split_every_tenth(melodies, cfg.split) for w in windows(m, steps)]
    if not rows:
        raise DataError(f"no chorale melody of split {cfg.split!r} has {steps} notes (lower data.seq_len)")
    tokens, lengths = encode(rows, vocab, steps)
    ds = token_dataset("chorales", apply_limit(tokens, cfg.limit), apply_limit(lengths, cfg.limit), vocab)
    ds.meta.update(fixed_length=True, token_separator=NOTE_LIST_SEPARATOR)
    return ds


@DATASETS.register("chorales-continuous", "Bach chorale melodies as (MIDI pitch, quarter length) float sequences")
def build_chorales_continuous(cfg: DataConfig) -> Dataset:
    """Windows ``(N, T, 2)`` of ``T`` notes (rests dropped) of ``data.split``, first ``data.limit``."""
    steps = _steps(cfg)
    melodies = [[(float(m), q) for _, m, q in melody if m >= 0] for melody in chorale_melodies()]
    rows = [w for m in split_every_tenth(melodies, cfg.split) for w in windows(m, steps)]
    if not rows:
        raise DataError(f"no chorale melody of split {cfg.split!r} has {steps} notes (lower data.seq_len)")
    x = torch.tensor(rows, dtype=torch.float32)  # (N, T, 2)
    meta = {"features": ["midi_pitch", "quarter_length"]}
    return Dataset("chorales-continuous", x=apply_limit(x, cfg.limit), meta=meta)
