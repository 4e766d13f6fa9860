"""CTGAN's conditional vector: log-frequency category probabilities by hand, training-by-sampling
frequencies and matching rows, the original-frequency draw, and the condition cross-entropy."""

import math

import numpy as np
import torch

from gankit.recipes.table_conditions import ConditionSampler, condition_cross_entropy, log_frequency_probabilities


def _toy_ids():
    first = torch.tensor([0] * 1 + [1] * 9 + [2] * 90)  # counts 1, 9, 90
    second = torch.tensor([0, 1] * 50)
    return torch.stack([first, second], dim=1)  # (100, 2)


def test_log_frequency_probabilities_by_hand():
    logs = [math.log(2), math.log(10), math.log(91)]
    want = torch.tensor([v / sum(logs) for v in logs], dtype=torch.float64)
    torch.testing.assert_close(log_frequency_probabilities(torch.tensor([1, 9, 90])), want)


def test_training_by_sampling_frequencies_and_rows():
    ids = _toy_ids()
    sampler = ConditionSampler.from_ids(ids, [3, 2])
    torch.manual_seed(0)
    n = 200_000
    column, category, rows = sampler.sample_training(n)
    assert torch.equal(ids[rows, column], category)  # every real row has the drawn category
    assert abs((column == 0).double().mean().item() - 0.5) < 0.005
    logs = np.log1p([1, 9, 90])
    freq = torch.bincount(category[column == 0], minlength=3).double() / (column == 0).sum()
    np.testing.assert_allclose(freq.numpy(), logs / logs.sum(), atol=0.005)
    picked = rows[(column == 0) & (category == 2)]  # uniform over the 90 rows of category 2
    counts = torch.bincount(picked, minlength=100)[10:].double()
    assert counts.min() > 0 and counts.std() / counts.mean() < 0.15


def test_sampling_draw_is_log_frequency_as_ctgan_and_one_hot_layout():
    sampler = ConditionSampler.from_ids(_toy_ids(), [3, 2])
    cond = sampler.sample_original(100_000, torch.Generator().manual_seed(0))  # (n, 5)
    assert cond.shape == (100_000, 5) and torch.equal(cond.sum(1), torch.ones(100_000))
    first = cond[cond[:, :3].sum(1) == 1, :3].mean(0)
    logs = np.log1p([1, 9, 90])
    np.testing.assert_allclose(first.numpy(), logs / logs.sum(), atol=0.005)
    assert sampler.fixed(2, 1, 1).tolist() == [[0, 0, 0, 0, 1]] * 2


def test_condition_cross_entropy_by_hand():
    a = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0], [1.0, 2.0, 3.0]])  # column 0 logits (B, 3)
    b = torch.tensor([[0.0, 1.0], [3.0, -3.0], [0.2, 0.1]])  # column 1 logits (B, 2)
    column, category = torch.tensor([0, 1, 0]), torch.tensor([2, 0, 1])

    def nll(row, k):
        return -(row[k] - math.log(sum(math.exp(v) for v in row)))

    want = (nll(a[0].tolist(), 2) + nll(b[1].tolist(), 0) + nll(a[2].tolist(), 1)) / 3
    got = condition_cross_entropy([a, b], column, category)
    assert abs(got.item() - want) < 1e-6
