"""train_classifier: deterministic under a seed, writes a loadable file and a card."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gankit.config import DataConfig
from gankit.data import build_dataset
from gankit.errors import ConfigError
from gankit.metrics.classifier import DomainClassifier, load_classifier, predict, train_classifier

TINY = dict(epochs=1, batch_size=32, limit=256, test_limit=100, num_threads=1, progress=False)


def test_training_is_deterministic_and_loadable(tmp_path):
    rng_before = torch.get_rng_state()
    threads_before = torch.get_num_threads()
    a = train_classifier("digits", None, seed=3, out_path=str(tmp_path / "a.safetensors"), **TINY)
    b = train_classifier("digits", None, seed=3, out_path=str(tmp_path / "b.safetensors"), **TINY)
    train_classifier("digits", None, seed=4, out_path=str(tmp_path / "c.safetensors"), **TINY)
    # the caller's RNG and thread count are untouched
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert torch.get_num_threads() == threads_before

    ta, tb, tc = (load_file(str(tmp_path / f"{n}.safetensors")) for n in "abc")
    assert ta.keys() == tb.keys()
    assert all(torch.equal(ta[k], tb[k]) for k in ta)
    assert a.sha256 == b.sha256
    assert not all(torch.equal(ta[k], tc[k]) for k in ta if ta[k].is_floating_point())

    # the card on disk describes the file
    card = json.loads((tmp_path / "a.json").read_text())
    data = (tmp_path / "a.safetensors").read_bytes()
    assert card["sha256"] == hashlib.sha256(data).hexdigest()
    assert card["weights_bytes"] == len(data)
    assert card["command"] == (
        "gankit classifier train --data digits --seed 3 --epochs 1 --batch-size 32 --limit 256 --threads 1"
    )
    assert (card["dataset"], card["seed"], card["epochs"], card["num_train"], card["num_test"]) == (
        "digits", 3, 1, 256, 100,
    )
    assert card == a.to_dict()
    assert len(card["history"]) == 1

    # it loads, and its test accuracy is what predict() gives on the same 100 test images
    clf = load_classifier("digits", tmp_path / "a.safetensors")
    assert isinstance(clf, DomainClassifier) and not clf.training
    test = build_dataset(DataConfig(name="digits", split="test", limit=100))
    labels, _ = predict(clf, test.x)
    correct = int(np.sum(labels == test.y.numpy()))
    assert abs(correct - card["test_correct"]) <= 1
    assert card["test_accuracy"] == pytest.approx(card["test_correct"] / 100, abs=1e-6)


def test_default_out_path_is_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    card = train_classifier("digits", None, seed=0, **{**TINY, "limit": 128})
    expected = tmp_path / "gankit" / "classifiers" / "digits.safetensors"
    assert card.path == str(expected) and expected.is_file()
    assert expected.with_suffix(".json").is_file()


def test_unknown_dataset_and_bad_arguments(tmp_path):
    with pytest.raises(ConfigError):
        train_classifier("ring", None, progress=False)
    with pytest.raises(ConfigError):
        train_classifier("digits", None, epochs=0, progress=False)
