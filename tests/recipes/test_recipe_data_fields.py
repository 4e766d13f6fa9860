"""A recipe names the batch fields it reads; data without them is refused before training."""

import pytest
import torch

from gankit.data.base import Dataset
from gankit.errors import ConfigError
from gankit.runs import train
from tests.helpers import tiny


def paired_images(n: int = 64) -> Dataset:
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(n, 1, 8, 8, generator=gen) * 2 - 1  # (n, 1, 8, 8)
    return Dataset("pairs", groups={"main": {"a": a, "b": -a}})


def test_a_gan_on_paired_data_is_one_config_error_and_writes_nothing(tmp_path):
    cfg = tiny("digits-dcgan", tmp_path, "train.steps=1", "train.run_name=r")
    with pytest.raises(ConfigError, match=r"recipe gan trains on the batch field 'x', which the data does not "
                                          r"have \(its fields: a, b\)"):
        train(cfg, dataset=paired_images())
    assert not (tmp_path / "r").exists()


def test_the_same_data_with_an_x_field_trains(tmp_path):
    data = paired_images()
    ds = Dataset("pairs", groups={"main": {"x": data.field("a"), "b": data.field("b")}})
    result = train(tiny("digits-dcgan", tmp_path, "train.steps=1", "train.run_name=r"), dataset=ds)
    assert result.steps == 1
