"""gankit.runs.samples: a run as a sample source for the metrics. InfoGAN runs carry their
categorical codes, so `matched_acc` runs from `evaluate` and from `gankit eval`."""

import itertools
import json

import numpy as np
import pytest
import torch

from gankit.cli import main
from gankit.errors import ConfigError, MetricError
from gankit.metrics.classifier import load_classifier, predict
from gankit.runs import load_run, train
from gankit.runs.samples import RunSource, evaluate, is_run_dir, samples_from_run
from tests.helpers import tiny
from tests.recipes.test_new_recipes import tiny_recipe

NOISE, CAT = 8, 4  # the tiny infogan run: 8 noise dims, a 4-way categorical code, 2 continuous codes


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run_samples")
    steps = ["train.steps=2"]
    info = tiny_recipe("digits-dcgan", tmp, "infogan", f"recipe.categorical={CAT}", "recipe.continuous=2",
                       *steps, "train.run_name=info")
    plain = tiny("digits-dcgan", tmp, *steps, "train.run_name=plain")
    return {"info": train(info).run_dir, "plain": train(plain).run_dir}


def _codes_by_hand(run_dir, n, seed):
    """The categorical code of each latent: the argmax of its one-hot block (after the noise)."""
    z = load_run(run_dir).recipe.latent(n, torch.Generator().manual_seed(seed))  # (n, NOISE + CAT + 2)
    return z[:, NOISE : NOISE + CAT].argmax(1).numpy()  # (n,)


def _matched_accuracy_by_brute_force(codes, labels, k_codes, k_labels=10):
    """max over one-to-one maps code -> label of the fraction of agreements (every injective map)."""
    best = 0.0
    for image in itertools.permutations(range(k_labels), k_codes):
        best = max(best, float(np.mean(np.asarray(image)[codes] == labels)))
    return best


def test_infogan_samples_carry_their_categorical_codes(runs):
    assert is_run_dir(runs["info"])
    s = samples_from_run(runs["info"], 50, seed=3, batch_size=16)  # 4 generator batches
    torch.testing.assert_close(s.x, load_run(runs["info"]).sample(50, seed=3), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(s.codes.numpy(), _codes_by_hand(runs["info"], 50, 3))
    assert s.labels is None and s.dataset == "digits"
    assert samples_from_run(runs["plain"], 5).codes is None


def test_evaluate_matched_acc_of_an_infogan_run(runs):
    res = evaluate(fake=runs["info"], metrics=["matched_acc"], n=60, seed=1)
    x = load_run(runs["info"]).sample(60, seed=1)
    labels, _ = predict(load_classifier("digits"), x)  # the digits run's domain classifier
    codes = _codes_by_hand(runs["info"], 60, 1)
    expected = _matched_accuracy_by_brute_force(codes, labels, CAT)
    got = res["matched_acc"]
    assert got["accuracy"] == pytest.approx(expected, abs=1e-12) and got["classifier"] == "digits"
    mapping = np.asarray(got["mapping"])
    assert np.mean(mapping[codes] == labels) == pytest.approx(expected, abs=1e-12)
    assert len(set(mapping.tolist())) == CAT  # one-to-one
    with pytest.raises(MetricError, match="latent codes"):
        evaluate(fake=runs["plain"], metrics=["matched_acc"], n=10)


def test_gankit_eval_runs_matched_acc(runs, capsys):
    assert main(["eval", runs["info"], "--metrics", "matched_acc", "--n", "40", "--seed", "2"]) == 0
    with open(f"{runs['info']}/metrics.json", encoding="utf-8") as fh:
        (entry,) = [e for k, e in json.load(fh)["entries"].items() if k.startswith("matched_acc|")]
    labels, _ = predict(load_classifier("digits"), load_run(runs["info"]).sample(40, seed=2))
    expected = _matched_accuracy_by_brute_force(_codes_by_hand(runs["info"], 40, 2), labels, CAT)
    assert entry["value"]["accuracy"] == pytest.approx(expected, abs=1e-12)
    assert entry["settings"] == {"n": 40, "seed": 2}
    assert "matched_acc" in capsys.readouterr().out


def test_a_loaded_run_is_a_source_like_its_directory(runs):
    loaded = load_run(runs["plain"])
    source = RunSource(loaded)
    assert source.resolution == 8 and source.name == f"run <{loaded.cfg.name}>"
    by_dir = evaluate(fake=runs["plain"], metrics=["mmd"], n=30, seed=5, features="identity")
    in_memory = evaluate(fake=loaded, metrics=["mmd"], n=30, seed=5, features="identity")
    assert by_dir.settings["real_identity"] == in_memory.settings["real_identity"]  # the run's own test split
    assert by_dir.settings["real_identity"]["split"] == "test" and by_dir.settings["real_identity"]["resolution"] == 8
    torch.testing.assert_close(torch.tensor(in_memory["mmd"]), torch.tensor(by_dir["mmd"]), rtol=1e-6, atol=1e-9)
    with pytest.raises(ConfigError, match="needs n"):
        source.draw(0, seed=0)
