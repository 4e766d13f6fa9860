"""Objectives for ORGAN: scores in [0, 1] of token sequences, registered by name (``OBJECTIVES``).

An objective is a plain Python callable ``objective(tokens, vocab) -> scores``: ``tokens`` int64
``(M, T)`` as in ``gankit.data.tokens`` (a row ends at its first ``<pad>``), ``vocab`` the token
strings (id ``i`` is ``vocab[i]``), ``scores`` float32 ``(M,)`` in [0, 1], higher is better. It
must be deterministic (no random numbers: ORGAN's resume is exact). Register your own with

>>> from gankit.objectives import OBJECTIVES
>>> @OBJECTIVES.register("short", "1 for one-token sequences, falling as 1/length")  # doctest: +SKIP
... def short(tokens, vocab): ...

Built in, after the music metrics of ORGAN (Guimaraes et al. 2017, section 4.2: tonality and
ratio of steps) for melodies of ``"<pitch> <quarter length>"`` tokens (dataset ``chorales``;
``rest`` for rests) and a pronounceability rule for words (dataset ``words``):

* ``melodic_steps``: the fraction of consecutive notes (rests skipped) at most 2 semitones
  apart, i.e. moving by step or repeating rather than leaping;
* ``in_key``: ``max_k`` of the fraction of notes whose pitch class lies in the major scale of
  ``k`` (12 keys; a natural minor scale has the pitch classes of its relative major);
* ``alternation``: the fraction of adjacent letters of which one is a vowel (``aeiou``) and the
  other a consonant.

A row with fewer than two notes (one note for ``in_key``) or letters scores 0.
"""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import torch

from gankit.data.tokens import PAD_ID
from gankit.registry import Registry

Objective = Callable[[torch.Tensor, Sequence[str]], torch.Tensor]
OBJECTIVES: Registry[Objective] = Registry("objective")

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)  # pitch classes of C major
STEP_SEMITONES = 2  # a larger interval between consecutive notes is a leap
VOWELS = frozenset("aeiou")
REST = "rest"
NO_PITCH = -1  # rests, specials and tokens that are not notes


def valid_mask(tokens: torch.Tensor) -> torch.Tensor:
    """``(M, T)`` bool: the positions before each row's first ``<pad>``."""
    return torch.cumprod((tokens != PAD_ID).long(), dim=1).bool()


@functools.lru_cache(maxsize=8)
def _midi_of_vocab(vocab: tuple[str, ...]) -> torch.Tensor:
    """``(V,)`` int64: the MIDI number of each ``"<pitch> <duration>"`` token, ``NO_PITCH`` otherwise."""
    from music21 import pitch  # the sequences extra; imported only when a melody objective runs

    midi = []
    for token in vocab:
        name = token.split(" ")[0]
        try:
            midi.append(NO_PITCH if name == REST or " " not in token else int(pitch.Pitch(name).midi))
        except Exception:  # music21 raises its own exception types for names that are no pitch
            midi.append(NO_PITCH)
    return torch.tensor(midi, dtype=torch.long)


def note_pitches(tokens: torch.Tensor, vocab: Sequence[str]) -> torch.Tensor:
    """``(M, T)`` int64 MIDI numbers of the notes, ``NO_PITCH`` at rests, specials and padding."""
    midi = _midi_of_vocab(tuple(vocab))[tokens.long()]  # (M, T)
    return torch.where(valid_mask(tokens), midi, torch.full_like(midi, NO_PITCH))


@OBJECTIVES.register("melodic_steps", "melodies: fraction of consecutive notes <= 2 semitones apart (no leaps)")
def melodic_steps(tokens: torch.Tensor, vocab: Sequence[str]) -> torch.Tensor:
    out = []
    for row in note_pitches(tokens, vocab):
        notes = row[row != NO_PITCH]  # rests skipped: the interval is between sounding notes
        steps = (notes[1:] - notes[:-1]).abs() <= STEP_SEMITONES
        out.append(steps.float().mean() if len(steps) else torch.tensor(0.0))
    return torch.stack(out) if out else torch.zeros(0)


@OBJECTIVES.register("in_key", "melodies: largest fraction of notes inside one major scale (12 keys)")
def in_key(tokens: torch.Tensor, vocab: Sequence[str]) -> torch.Tensor:
    pitches = note_pitches(tokens, vocab)  # (M, T)
    is_note = pitches != NO_PITCH  # (M, T)
    scales = torch.zeros(12, 12, dtype=torch.bool)  # [key, pitch class]
    for key in range(12):
        scales[key, [(key + d) % 12 for d in MAJOR_SCALE]] = True
    inside = scales[:, pitches.clamp(min=0) % 12] & is_note  # (12, M, T)
    counts = is_note.sum(dim=1)  # (M,)
    best = inside.sum(dim=2).max(dim=0).values  # (M,)
    return torch.where(counts > 0, best / counts.clamp(min=1), torch.zeros(())).float()


@OBJECTIVES.register("alternation", "words: fraction of adjacent letters where a vowel meets a consonant")
def alternation(tokens: torch.Tensor, vocab: Sequence[str]) -> torch.Tensor:
    letter = torch.tensor([len(t) == 1 and t.isalpha() for t in vocab])  # (V,)
    vowel = torch.tensor([t.lower() in VOWELS for t in vocab])  # (V,)
    ids, valid = tokens.long(), valid_mask(tokens)  # (M, T)
    is_letter, is_vowel = letter[ids] & valid, vowel[ids] & valid  # (M, T)
    pair = is_letter[:, 1:] & is_letter[:, :-1]  # (M, T-1): both letters
    mixed = pair & (is_vowel[:, 1:] != is_vowel[:, :-1])  # (M, T-1)
    pairs = pair.sum(dim=1)  # (M,)
    return torch.where(pairs > 0, mixed.sum(dim=1) / pairs.clamp(min=1), torch.zeros(())).float()
