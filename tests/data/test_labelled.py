import pytest
import torch

from gankit.data.labelled import labelled_subset
from gankit.errors import ConfigError


def test_balanced_distinct_and_deterministic():
    y = torch.arange(300) % 3
    idx = labelled_subset(y, 30, 3, seed=5)
    assert len(set(idx.tolist())) == 30
    assert torch.bincount(y[idx], minlength=3).tolist() == [10, 10, 10]
    assert torch.equal(idx, labelled_subset(y, 30, 3, seed=5))
    assert not torch.equal(idx, labelled_subset(y, 30, 3, seed=6))


@pytest.mark.parametrize("n", [0, 7, 31])
def test_not_a_multiple_of_the_classes(n):
    with pytest.raises(ConfigError, match="multiple of 3"):
        labelled_subset(torch.arange(300) % 3, n, 3, seed=0)


def test_too_few_examples_of_a_class():
    y = torch.tensor([0] * 50 + [1] * 2)
    with pytest.raises(ConfigError, match="class 1 has 2"):
        labelled_subset(y, 10, 2, seed=0)


def test_unlabelled_data():
    with pytest.raises(ConfigError, match="class labels"):
        labelled_subset(None, 10, 10, seed=0)
