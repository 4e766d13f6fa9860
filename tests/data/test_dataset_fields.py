"""Dataset: named fields in groups, the old constructor, validation, field specs, lazy fields."""

from __future__ import annotations

import json

import pytest
import torch

from gankit.data.base import Dataset, FieldSpec, LazyField
from gankit.errors import DataError


class Squares(LazyField):
    """Example i is the (2, 3) tensor filled with i**2; records every index it renders."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.rendered: list[int] = []

    def __len__(self) -> int:
        return self.n

    @property
    def shape(self) -> tuple[int, ...]:
        return (2, 3)

    @property
    def dtype(self) -> torch.dtype:
        return torch.float64

    def take(self, idx: torch.Tensor) -> torch.Tensor:
        self.rendered += idx.tolist()
        return (idx.to(torch.float64) ** 2)[:, None, None].expand(-1, 2, 3).clone()


def test_old_constructor_makes_one_main_group():
    x, y = torch.zeros(5, 1, 4, 4), torch.arange(5)
    ds = Dataset("d", x, y, num_classes=5, class_names=tuple("abcde"))
    assert list(ds.groups) == ["main"] and list(ds.groups["main"]) == ["x", "y"]
    assert ds.x is x and ds.y is y
    assert (len(ds), ds.sample_shape, ds.is_image) == (5, (1, 4, 4), True)
    assert ds.field_specs() == {
        "x": FieldSpec((1, 4, 4), "float32", "main"),
        "y": FieldSpec((), "int64", "main"),
    }
    unlabelled = Dataset("v", torch.zeros(3, 2))
    assert unlabelled.y is None and list(unlabelled.groups["main"]) == ["x"]
    assert (unlabelled.sample_shape, unlabelled.is_image) == ((2,), False)


def test_groups_of_different_sizes_and_the_primary_field():
    a, b = torch.zeros(7, 3, 8, 8), torch.zeros(4, 1, 16, 16)
    ds = Dataset("u", groups={"a": {"a": a, "y_a": torch.arange(7)}, "b": {"b": b}}, num_classes=10)
    assert ds.x is None and ds.y is None
    assert (ds.primary_field, ds.primary_group) == ("a", "a")
    assert (len(ds), ds.group_len("b")) == (7, 4)
    assert ds.sample_shape == (3, 8, 8)
    assert ds.field("b") is b and ds.group_of("y_a") == "a" and ds.field("nope") is None
    assert ds.field_specs()["b"] == FieldSpec((1, 16, 16), "float32", "b")
    # x wherever it is: the primary field and group follow it
    ds = Dataset("v", groups={"c": {"c": torch.zeros(2, 5)}, "d": {"x": torch.zeros(6, 3)}})
    assert (ds.primary_field, ds.primary_group, len(ds), ds.sample_shape) == ("x", "d", 6, (3,))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"groups": {"g": {"a": torch.zeros(3, 2), "b": torch.zeros(4)}}}, "field 'b' has 4 examples but 'a' has 3"),
        ({"groups": {"g": {"a": torch.zeros(3)}, "h": {"a": torch.zeros(3)}}}, "in both group 'g' and group 'h'"),
        ({"groups": {"g": {"index_g": torch.zeros(3)}}}, "'index_g' is reserved"),
        ({"groups": {"g": {"index": torch.zeros(3)}}}, "'index' is reserved"),
        ({"groups": {}}, "has no groups"),
        ({"groups": {"g": {}}}, "group 'g' has no fields"),
        ({"groups": {"g": {"a": torch.tensor(1.0)}}}, "field 'a' must be a tensor"),
        ({"groups": {"g": {"a": [1, 2]}}}, "field 'a' must be a tensor"),
        ({"x": torch.zeros(3, 2), "y": torch.arange(4)}, "field 'y' has 4 examples but 'x' has 3"),
        ({"x": torch.zeros(3, 2), "meta": {"bad": object()}}, "meta must be JSON-able"),
        ({}, "give x (and y) or groups"),
        ({"x": torch.zeros(2), "groups": {"g": {"a": torch.zeros(2)}}}, "not both"),
    ],
)
def test_construction_errors_name_the_field(kwargs, message):
    with pytest.raises(DataError, match="dataset 'bad'") as err:
        Dataset("bad", **kwargs)
    assert message in str(err.value)


def test_field_spec_json_round_trip():
    spec = FieldSpec((3, 28, 28), "float32", "a")
    back = FieldSpec.from_json(json.loads(json.dumps(spec.to_json())))
    assert back == spec and back.torch_dtype is torch.float32
    assert spec.to_json() == {"shape": [3, 28, 28], "dtype": "float32", "group": "a"}
    with pytest.raises(DataError, match="not {shape, dtype, group}"):
        FieldSpec.from_json({"shape": [1], "dtype": "float32"})
    with pytest.raises(DataError, match="unknown dtype 'float33'"):
        FieldSpec.from_json({"shape": [1], "dtype": "float33", "group": "g"})


def test_lazy_field_in_a_dataset_is_not_rendered_until_asked():
    lazy = Squares(6)
    ds = Dataset("lazy", groups={"main": {"v": lazy, "y": torch.arange(6)}}, meta={"vocab": ["a", "b"]})
    assert lazy.rendered == []  # construction and specs render nothing
    assert ds.field_specs()["v"] == FieldSpec((2, 3), "float64", "main")
    assert (len(ds), ds.sample_shape, ds.is_image, ds.meta) == (6, (2, 3), False, {"vocab": ["a", "b"]})
    full = lazy.materialise()
    expected = torch.tensor([0.0, 1, 4, 9, 16, 25], dtype=torch.float64)[:, None, None].expand(6, 2, 3)
    torch.testing.assert_close(full, expected)
