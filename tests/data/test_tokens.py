from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from gankit.data.tokens import (
    SPECIALS,
    build_vocab,
    decode,
    encode,
    is_valid_sum,
    load_text_sequences,
    sample_sums,
    sum_vocab,
)
from gankit.errors import ConfigError, DataError


def write(tmp_path: Path, data: bytes, name: str = "lines.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_char_level_ids_by_hand(tmp_path: Path) -> None:
    # vocab: <pad> <bos> <eos> ' '=3 'a'=4 'b'=5 'c'=6; blank lines skipped, CRLF and a BOM accepted
    path = write(tmp_path, "\ufeffab\r\n\n  \nba c\n".encode())
    tokens, lengths, vocab = load_text_sequences(path, "char")
    assert vocab == (*SPECIALS, " ", "a", "b", "c")
    assert_close(tokens, torch.tensor([[4, 5, 0, 0], [5, 4, 3, 6]]))
    assert_close(lengths, torch.tensor([2, 4]))
    assert tokens.dtype == lengths.dtype == torch.int64
    assert decode(tokens, lengths, vocab) == [["a", "b"], ["b", "a", " ", "c"]]


def test_word_level_and_explicit_length(tmp_path: Path) -> None:
    # vocab: specials, cat=3 dog=4 sat=5 the=6
    path = write(tmp_path, b"the cat\nthe  dog sat\n")
    tokens, lengths, vocab = load_text_sequences(path, "word", max_len=5)
    assert vocab[3:] == ("cat", "dog", "sat", "the")
    assert_close(tokens, torch.tensor([[6, 3, 0, 0, 0], [6, 4, 5, 0, 0]]))
    assert_close(lengths, torch.tensor([2, 3]))


def test_line_over_the_limit_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"ab\n\nabcd\n")
    with pytest.raises(DataError, match=r"lines\.txt line 3: 4 char tokens, more than data\.seq_len=3"):
        load_text_sequences(path, "char", max_len=3)


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        (b"", "no sequences"),
        (b"\n  \n\n", "no sequences"),
        (b"fine\n\xff\xfe bad\n", r"line 2: not UTF-8 \(byte 0xff at offset 5\)"),
        (b"a <pad> b\n", "line 1: contains the reserved token '<pad>'"),
    ],
)
def test_bad_files(tmp_path: Path, data: bytes, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        load_text_sequences(write(tmp_path, data), "word")


def test_missing_file_and_bad_options(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_text_sequences(tmp_path / "nope.txt")
    with pytest.raises(ConfigError, match="data.tokenize"):
        load_text_sequences(write(tmp_path, b"x\n"), "byte")


def test_encode_rejects_unknown_tokens_and_long_rows() -> None:
    vocab = build_vocab([["a"]])
    with pytest.raises(DataError, match="'b' is not in the vocabulary"):
        encode([["a", "b"]], vocab)
    with pytest.raises(DataError, match="sequence 1 has 3 tokens"):
        encode([["a"], ["a", "a", "a"]], vocab, max_len=2)


def test_sums_are_valid_deterministic_and_cover_operands() -> None:
    texts = sample_sums(2000, torch.Generator().manual_seed(3))
    assert texts == sample_sums(2000, torch.Generator().manual_seed(3))
    assert texts != sample_sums(2000, torch.Generator().manual_seed(4))
    assert all(is_valid_sum(t) for t in texts)
    operands = {int(part) for t in texts for part in t.split("=")[0].split("+")}
    assert operands == set(range(100))
    vocab = sum_vocab()
    assert vocab == (*SPECIALS, "+", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "=")
    tokens, lengths = encode([list(t) for t in texts], vocab, 9)
    assert tokens.shape == (2000, 9)
    assert_close(lengths, torch.tensor([len(t) for t in texts]))
    assert ["".join(s) for s in decode(tokens, lengths, vocab)] == texts


@pytest.mark.parametrize(("text", "valid"), [("12+7=19", True), ("0+0=0", True), ("12+7=20", False),
                                             ("12+=12", False), ("1+2=3=3", False), ("", False)])
def test_is_valid_sum(text: str, valid: bool) -> None:
    assert is_valid_sum(text) is valid


def test_registered_text_dataset(tmp_path: Path) -> None:
    from gankit.config import DataConfig
    from gankit.data import build_dataset

    path = write(tmp_path, b"the cat\nthe dog sat\nsat\n")
    ds = build_dataset(DataConfig(name="text", path=str(path), tokenize="word", limit=2))
    assert len(ds) == 2 and ds.primary_field == "tokens"
    assert_close(ds.groups["main"]["tokens"], torch.tensor([[6, 3, 0], [6, 4, 5]]))
    assert_close(ds.groups["main"]["lengths"], torch.tensor([2, 3]))
    assert ds.meta == {"vocab": [*SPECIALS, "cat", "dog", "sat", "the"], "pad_id": 0, "bos_id": 1, "eos_id": 2}
    specs = ds.field_specs()
    assert (specs["tokens"].shape, specs["tokens"].dtype, specs["lengths"].shape) == ((3,), "int64", ())
    with pytest.raises(ConfigError, match="data.path must name the text file"):
        build_dataset(DataConfig(name="text"))


def test_registered_sums_dataset() -> None:
    from gankit.config import DataConfig
    from gankit.data import build_dataset

    ds = build_dataset(DataConfig(name="sums", n_samples=300, seed=2, seq_len=12))
    tokens, lengths = ds.groups["main"]["tokens"], ds.groups["main"]["lengths"]
    assert tokens.shape == (300, 12) and (tokens[:, 9:] == 0).all()
    texts = ["".join(s) for s in decode(tokens, lengths, ds.meta["vocab"])]
    assert texts == sample_sums(300, torch.Generator().manual_seed(2))
    pad = torch.arange(12)[None, :] >= lengths[:, None]  # (N, T)
    assert ((tokens == 0) == pad).all()
    with pytest.raises(ConfigError, match="data.seq_len must be 0 or >= 9"):
        build_dataset(DataConfig(name="sums", seq_len=8))
