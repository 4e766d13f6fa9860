"""gankit.semi_supervised: the labelled pool's deterministic minibatches and classifier_error
on a hand-made tiny run against an independent NumPy computation."""

import numpy as np
import pytest
import torch

from gankit.data.base import Dataset
from gankit.errors import ConfigError
from gankit.recipes import RECIPES, DataInfo
from gankit.runs import LoadedRun
from gankit.semi_supervised import LabelledPool, classifier_error
from tests.helpers import tiny
from tests.recipes.test_new_recipes import tiny_recipe


def _toy_set(n=60, k=3):
    x = torch.arange(n, dtype=torch.float32)[:, None]  # (n, 1): x_i = i identifies the example
    return Dataset("toy", x, torch.arange(n) % k, num_classes=k)


def test_pool_is_balanced_and_draws_depend_only_on_seed_step_and_draw():
    data = _toy_set()
    pool = LabelledPool(data, 12, 3, seed=4)
    assert torch.bincount(pool.y, minlength=3).tolist() == [4, 4, 4]
    torch.testing.assert_close(pool.x[:, 0].long(), pool.indices)  # x_i = i: the pool holds those examples
    first, second = pool.draw(7, 5, "cpu"), pool.draw(7, 5, "cpu")  # two draws within step 7
    assert len(set(first[0][:, 0].tolist())) == 5  # distinct examples
    assert not torch.equal(first[0], second[0])
    torch.testing.assert_close(first[1], pool.y.new_tensor([int(v) % 3 for v in first[0][:, 0]]))
    again = LabelledPool(data, 12, 3, seed=4)
    assert torch.equal(again.draw(7, 5, "cpu")[0], first[0]) and torch.equal(again.draw(7, 5, "cpu")[0], second[0])
    step8 = again.draw(8, 5, "cpu")[0]
    assert not torch.equal(step8, first[0])
    assert torch.equal(LabelledPool(data, 12, 3, seed=4).draw(8, 5, "cpu")[0], step8)  # no history needed
    with pytest.raises(ConfigError, match="size <= 12"):
        pool.draw(0, 13, "cpu")


def _hand_made_run(tmp_path):
    """An ssgan run whose classifier is nearest-class-mean on the pixels: D = one Linear(64, 64)
    set to the identity, LeakyReLU(0.2), then the class head W, b (set from NumPy)."""
    cfg = tiny_recipe("digits-dcgan", tmp_path, "ssgan", "model.arch=mlp", "model.mlp_layers=1",
                      "model.d_width=64", "model.d_norm=none")
    recipe = RECIPES.get("ssgan")(cfg, DataInfo((1, 8, 8), 10))  # no training set: a loaded run
    from sklearn.datasets import load_digits

    digits = load_digits()
    leaky = lambda v: np.where(v > 0, v, 0.2 * v)  # noqa: E731
    feats = leaky(digits.images.reshape(-1, 64) / 8.0 - 1.0)  # pixels 0..16 -> [-1, 1]
    train_f, train_y = feats[:1500], digits.target[:1500]
    means = np.stack([train_f[train_y == k].mean(0) for k in range(10)])  # (10, 64)
    W, b = 2 * means, -(means**2).sum(1)  # argmax_k 2<f, m_k> - |m_k|^2 = nearest class mean
    D = recipe.modules["D"]
    with torch.no_grad():
        D.body[0].weight.copy_(torch.eye(64))
        D.body[0].bias.zero_()
        D.aux.classes.linear.weight.copy_(torch.from_numpy(W).float())
        D.aux.classes.linear.bias.copy_(torch.from_numpy(b).float())
    run = LoadedRun(cfg, recipe, {}, 0, {"sample_shape": [1, 8, 8], "num_classes": 10}, torch.device("cpu"))
    test_f, test_y = feats[1500:], digits.target[1500:]
    expected = float(((test_f @ W.T + b).argmax(1) != test_y).mean())
    return run, expected


def test_classifier_error_of_a_hand_made_run(tmp_path):
    run, expected = _hand_made_run(tmp_path)
    assert 0.02 < expected < 0.5  # a real classifier, neither perfect nor chance
    for batch_size in (1000, 64, 7):  # one batch, and batches that do not divide the 297 test images
        assert classifier_error(run, "test", batch_size=batch_size) == pytest.approx(expected, abs=1e-12)
    assert run.recipe.modules["D"].training  # the training mode is restored


def test_classifier_error_needs_a_classifier(tmp_path):
    cfg = tiny("ring-gan", tmp_path)
    run = LoadedRun(cfg, RECIPES.get("gan")(cfg, DataInfo((2,), 0)), {}, 0, {}, torch.device("cpu"))
    with pytest.raises(ConfigError, match="trains no classifier"):
        classifier_error(run)
