"""Loading: sha256 verification, missing/corrupt files and cards, no unpickling."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import pytest
import torch

from gankit.errors import CheckpointError
from gankit.metrics.classifier import classifier_card, load_classifier, predict


def _copy_shipped(name, tmp_path):
    src = resources.files("gankit.metrics.classifier").joinpath("weights")
    weights, card = tmp_path / f"{name}.safetensors", tmp_path / f"{name}.json"
    weights.write_bytes(src.joinpath(f"{name}.safetensors").read_bytes())
    card.write_bytes(src.joinpath(f"{name}.json").read_bytes())
    return weights, card


def test_user_path_copy_loads_identically(tmp_path):
    weights, _ = _copy_shipped("digits", tmp_path)
    a, b = load_classifier("digits"), load_classifier("digits", weights)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    assert classifier_card("digits", weights) == classifier_card("digits")


def test_flipped_byte_is_rejected(tmp_path):
    weights, _ = _copy_shipped("digits", tmp_path)
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01  # inside the tensor data
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        load_classifier("digits", weights)


def test_missing_file_or_card(tmp_path):
    with pytest.raises(CheckpointError, match="missing"):
        load_classifier("digits", tmp_path / "nope.safetensors")
    weights, card = _copy_shipped("digits", tmp_path)
    card.unlink()
    with pytest.raises(CheckpointError, match="card"):
        load_classifier("digits", weights)
    with pytest.raises(CheckpointError, match="no classifier named"):
        load_classifier("cifar-42")


def test_card_for_another_dataset(tmp_path):
    weights, _ = _copy_shipped("digits", tmp_path)
    with pytest.raises(CheckpointError, match="not 'mnist'"):
        load_classifier("mnist", weights)


def _with_card(path, name="digits"):
    card = json.loads(
        resources.files("gankit.metrics.classifier").joinpath("weights", f"{name}.json").read_text()
    )
    card["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_suffix(".json").write_text(json.dumps(card))


def test_not_safetensors_even_with_matching_hash(tmp_path):
    garbage = tmp_path / "g.safetensors"
    garbage.write_bytes(b"\x00" * 64)
    _with_card(garbage)
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_classifier("digits", garbage)
    # a pickle (torch.save) is never unpickled
    pickled = tmp_path / "p.safetensors"
    torch.save(load_classifier("digits").state_dict(), pickled)
    _with_card(pickled)
    with pytest.raises(CheckpointError):
        load_classifier("digits", pickled)


def test_wrong_architecture(tmp_path):
    from safetensors.torch import save_file

    clf = load_classifier("digits")
    tensors = dict(clf.state_dict())
    tensors.pop("head.1.bias")
    bad = tmp_path / "bad.safetensors"
    src = resources.files("gankit.metrics.classifier").joinpath("weights", "digits.safetensors")
    with resources.as_file(src) as p:
        from safetensors import safe_open

        with safe_open(str(p), framework="pt") as fh:
            header = fh.metadata()
    save_file(tensors, str(bad), metadata=header)
    _with_card(bad)
    with pytest.raises(CheckpointError, match="do not match"):
        load_classifier("digits", bad)


def test_predict_rejects_wrong_channels():
    from gankit.errors import ShapeError

    clf = load_classifier("digits")
    with pytest.raises(ShapeError):
        predict(clf, torch.zeros(2, 3, 8, 8))
