from pathlib import Path

import numpy as np
import pytest
import torch

from gankit.config import DataConfig
from gankit.data import build_dataset
from gankit.data.stacked_mnist import stack_digits
from gankit.errors import ConfigError


def test_stack_digits_by_hand():
    images = torch.arange(4, dtype=torch.float32).reshape(4, 1, 1, 1).expand(4, 1, 2, 2).clone()
    labels = torch.tensor([7, 3, 9, 0])
    gen = torch.Generator().manual_seed(0)
    idx = torch.randint(0, 4, (5, 3), generator=torch.Generator().manual_seed(0))
    x, y = stack_digits(images, labels, 5, gen)
    assert x.shape == (5, 3, 2, 2)
    np.testing.assert_array_equal(x[:, :, 0, 0].numpy(), idx.numpy())  # pixel value = source index
    np.testing.assert_array_equal(y.numpy(), [100 * labels[a] + 10 * labels[b] + labels[c] for a, b, c in idx.tolist()])


def test_built_from_the_real_files(real_data: Path):
    ds = build_dataset(DataConfig(name="stacked-mnist", path=str(real_data), download=False, n_samples=3000,
                                  limit=1000, seed=4))
    mnist = build_dataset(DataConfig(name="mnist", path=str(real_data), download=False, limit=1000))
    assert ds.x.shape == (3000, 3, 28, 28) and ds.num_classes == 1000
    idx = torch.randint(0, 1000, (3000, 3), generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(ds.x[17, 2], mnist.x[idx[17, 2], 0])
    assert int(ds.y[17]) == int(mnist.y[idx[17, 0]] * 100 + mnist.y[idx[17, 1]] * 10 + mnist.y[idx[17, 2]])
    assert len(torch.unique(ds.y)) > 900  # 3000 draws cover most of the 1,000 modes


def test_needs_examples():
    with pytest.raises(ConfigError, match="n_samples"):
        build_dataset(DataConfig(name="stacked-mnist", n_samples=0))
