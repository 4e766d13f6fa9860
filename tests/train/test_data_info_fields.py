"""DataInfo carries every field's spec and the dataset's meta, in training and in a saved run."""

from __future__ import annotations

import torch

from gankit.data.base import Dataset, FieldSpec
from gankit.runs import load_run, train
from gankit.train.checkpoint import load_checkpoint
from gankit.train.trainer import Trainer
from tests.helpers import tiny


def test_fields_and_meta_reach_the_recipe_and_survive_a_saved_run(tmp_path):
    n = 64
    gen = torch.Generator().manual_seed(0)
    ds = Dataset(
        "extra",
        groups={"main": {"x": torch.randn(n, 2, generator=gen), "w": torch.ones(n, 3, dtype=torch.float64)}},
        meta={"vocabulary": ["<pad>", "a", "b"], "columns": {"age": "int"}},
    )
    want = {"x": FieldSpec((2,), "float32", "main"), "w": FieldSpec((3,), "float64", "main")}
    cfg = tiny("ring-gan", tmp_path, "train.steps=2", "train.run_name=fields")
    live = Trainer(cfg, str(tmp_path / "unused"), ds).recipe.data
    assert dict(live.fields) == want and live.meta == ds.meta and live.train_set is ds
    result = train(cfg, dataset=ds)
    _, meta = load_checkpoint(f"{result.run_dir}/checkpoint.safetensors")
    assert meta["data"]["fields"] == {
        "x": {"shape": [2], "dtype": "float32", "group": "main"},
        "w": {"shape": [3], "dtype": "float64", "group": "main"},
    }
    assert meta["data"]["meta"] == {"vocabulary": ["<pad>", "a", "b"], "columns": {"age": "int"}}
    run = load_run(result.run_dir)
    assert dict(run.recipe.data.fields) == want
    assert run.recipe.data.meta == ds.meta
    assert run.recipe.data.sample_shape == (2,)
