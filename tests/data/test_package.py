import pytest

from gankit import data
from gankit.config import DataConfig
from gankit.errors import ConfigError

NAMES = ["csv", "diabetes", "digits", "fashion-mnist", "grid", "image-folder", "mnist", "moving-mnist",
         "npy-sequences", "ring", "sines", "spiral", "stacked-mnist", "sums", "text"]
# image translation: pix2pix / CycleGAN layouts and the tasks derived from MNIST and Fashion-MNIST
NAMES += ["paired-images", "unpaired-images", "mnist2digits", "mnist-m"]
TASKS = ("edges", "inverted", "superres4", "inpaint", "colour")
NAMES += [f"{base}-{task}" for base in ("mnist", "fashion") for task in TASKS]
NAMES += ["seqgan-oracle"]  # SeqGAN's synthetic oracle (token sequences)
NAMES += ["chorales", "chorales-continuous", "words"]  # Bach chorale melodies (music21), English words
NAMES += ["categorical"]  # one-hot vectors of a fixed categorical distribution (Gumbel-softmax toy)
NAMES += ["fair", "anes96"]  # statsmodels' mixed-type tables


def test_all_datasets_registered_with_descriptions() -> None:
    assert data.DATASETS.names() == sorted(NAMES)
    for name in NAMES:
        assert data.DATASETS.describe(name).strip()


def test_exports_resolve() -> None:
    for name in data.__all__:
        assert getattr(data, name) is not None


def test_unknown_dataset() -> None:
    with pytest.raises(ConfigError, match="unknown dataset 'nope'"):
        data.build_dataset(DataConfig(name="nope"))


@pytest.mark.parametrize(("key", "value"), [("limit", -1), ("resolution", -8)])
@pytest.mark.parametrize("name", ["ring", "digits"])
def test_negative_values_rejected(name: str, key: str, value: int) -> None:
    with pytest.raises(ConfigError, match=key):
        data.build_dataset(DataConfig(name=name, **{key: value}))  # type: ignore[arg-type]
