"""Datasets chorales, chorales-continuous and words: windows, splits, vocabulary and refusals on
hand-made melodies and word lists; the real music21 corpus through the cached melodies; the
ORGAN objectives by hand."""

import pytest
import torch

from gankit.config import DataConfig
from gankit.data import build_dataset
from gankit.data import chorales as ch
from gankit.data.tokens import SPECIALS
from gankit.data.words import WORD_VOCAB
from gankit.errors import ConfigError, DataError
from gankit.objectives import OBJECTIVES

MELODIES = [  # (name, midi, quarter length); melody i of 20: C4 .. with its index as the last note's length
    [("C4", 60, 1.0), ("D4", 62, 0.5), ("rest", -1, 1.0), ("E4", 64, float(i + 1)), ("F4", 65, 2.0)]
    for i in range(20)
]


@pytest.fixture
def hand_melodies(monkeypatch):
    monkeypatch.setattr(ch, "chorale_melodies", lambda: MELODIES)


def test_chorale_tokens_window_and_split_by_chorale(hand_melodies):
    train = build_dataset(DataConfig(name="chorales", seq_len=2))
    test = build_dataset(DataConfig(name="chorales", split="test", seq_len=2))
    assert train.meta["vocab"] == test.meta["vocab"]  # shared by the splits
    vocab = train.meta["vocab"]
    assert vocab[:3] == list(SPECIALS) and vocab == list(SPECIALS) + sorted(set(vocab[3:]))
    # two windows per melody (the fifth note is the dropped remainder); test = melodies 9 and 19
    assert train.field("tokens").shape == (36, 2) and test.field("tokens").shape == (4, 2)
    decoded = [[vocab[t] for t in row] for row in test.field("tokens").tolist()]
    assert decoded == [["C4 1", "D4 0.5"], ["rest 1", "E4 10"], ["C4 1", "D4 0.5"], ["rest 1", "E4 20"]]
    assert "F4 2" not in vocab and train.meta["fixed_length"] and train.meta["token_separator"] == ", "
    assert (train.field("lengths") == 2).all()


def test_continuous_chorales_drop_rests_and_keep_pitch_and_length(hand_melodies):
    ds = build_dataset(DataConfig(name="chorales-continuous", split="test", seq_len=4))
    expected = torch.tensor([[[60, 1], [62, 0.5], [64, 10], [65, 2]], [[60, 1], [62, 0.5], [64, 20], [65, 2]]])
    torch.testing.assert_close(ds.x, expected.float())


def test_chorale_refusals(hand_melodies):
    with pytest.raises(ConfigError, match="seq_len must be 0"):
        build_dataset(DataConfig(name="chorales", seq_len=1))
    with pytest.raises(DataError, match="has 6 notes"):
        build_dataset(DataConfig(name="chorales", seq_len=6))


def test_real_chorales_match_music21_and_decode_to_note_lists(chorale_cache):
    from music21 import converter

    first = ch.chorale_files()[0]
    score = converter.parse(first)
    soprano = next(p for p in score.parts if "Soprano" in (p.partName or ""))
    notes = [(n.nameWithOctave if n.isNote else "rest", float(n.quarterLength))
             for n in soprano.flatten().notesAndRests if n.quarterLength > 0][:16]
    ds = build_dataset(DataConfig(name="chorales", split="all"))
    vocab = ds.meta["vocab"]
    assert [vocab[t] for t in ds.field("tokens")[0].tolist()] == [f"{n} {q:.4g}" for n, q in notes]
    test = build_dataset(DataConfig(name="chorales", split="test"))
    assert 0 < len(test) < len(ds)


def test_words_keep_lowercase_words_up_to_the_length_and_split_every_tenth(tmp_path):
    words = [f"w{'a' * (i % 5 + 1)}" for i in range(20)]  # 20 kept words
    path = tmp_path / "words"
    path.write_text("\n".join(["Alice", "it's", "café", "", "abcdefghijk"] + words) + "\n")
    train = build_dataset(DataConfig(name="words", path=str(path)))
    test = build_dataset(DataConfig(name="words", path=str(path), split="test"))
    assert train.meta["vocab"] == list(WORD_VOCAB)

    def decode(ds):
        rows = zip(ds.field("tokens").tolist(), ds.field("lengths").tolist())
        return ["".join(WORD_VOCAB[t] for t in row[:n]) for row, n in rows]

    assert decode(test) == [words[9], words[19]] and decode(train) == [w for i, w in enumerate(words) if i % 10 != 9]
    assert train.field("tokens").shape[1] == 10


def test_missing_word_list_names_the_package(monkeypatch, tmp_path):
    from gankit.data import words

    monkeypatch.setattr(words, "WORD_LIST", tmp_path / "none")
    with pytest.raises(DataError, match="wamerican"):
        build_dataset(DataConfig(name="words"))


MELODY_VOCAB = ("<pad>", "<bos>", "<eos>", "C4 1", "D4 1", "G4 0.5", "rest 1", "C#4 1")


@pytest.mark.parametrize("name, rows, expected", [
    # C4 D4 rest G4: intervals 2 (step), 5 (leap) -> 1/2; C4 C#4: 1 -> 1; one note -> 0
    ("melodic_steps", [[3, 4, 6, 5], [3, 7, 0, 0], [5, 6, 6, 0]], [0.5, 1.0, 0.0]),
    # C4 D4 G4 C#4: C major holds 3 of 4 (so does D major); C4 C#4 D4: no major scale holds three
    # consecutive semitones, D-flat major holds C and C# -> 2/3; no note -> 0
    ("in_key", [[3, 4, 5, 7], [3, 7, 4, 0], [6, 6, 0, 0]], [0.75, 2 / 3, 0.0]),
])
def test_melody_objectives_by_hand(name, rows, expected):
    pytest.importorskip("music21", reason="the melody objectives read pitch names with music21")
    torch.testing.assert_close(OBJECTIVES.get(name)(torch.tensor(rows), MELODY_VOCAB), torch.tensor(expected))


def test_alternation_by_hand():
    ids = {c: WORD_VOCAB.index(c) for c in "abenrst"}
    rows = [[ids[c] for c in w] + [0] * (6 - len(w)) for w in ("banana", "street", "a")]
    # banana: 5 of 5 pairs mix a vowel and a consonant; street: r-e, e-t of 5; "a": no pair
    torch.testing.assert_close(OBJECTIVES.get("alternation")(torch.tensor(rows), WORD_VOCAB),
                               torch.tensor([1.0, 0.4, 0.0]))
