"""``gankit eval`` on several processes: each rank generates and extracts features of its share of
the rows, the features are gathered, and the statistics equal the one-process ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gankit.config import to_dict
from gankit.metrics.extractors import IdentityExtractor
from gankit.presets import load_preset
from gankit.runs.files import CONFIG_NAME
from gankit.runs.samples import evaluate
from gankit.train import distributed
from gankit.train.trainer import Trainer, write_json_atomic
from tests.train.ddp_launch import launch

METRICS = ["fid", "kid", "pr", "mode_coverage"]
N = 600


class RowCountingFeatures(IdentityExtractor):
    """A non-linear feature map (so a gather in the wrong order changes the statistics) that logs
    how many rows each call saw."""

    name = "counting"

    def __init__(self, log: Path) -> None:
        self.log = log

    def features(self, x: torch.Tensor) -> np.ndarray:
        with open(self.log, "a") as fh:
            fh.write(f"{x.shape[0]}\n")
        flat = torch.as_tensor(x).reshape(x.shape[0], -1).double()  # (N, 2)
        return torch.cat([torch.tanh(flat @ torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64)),
                          flat.square()], dim=1).numpy()  # (N, 4)


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("ring-run")
    cfg = load_preset("ring-gan", ["data.n_samples=512", "model.g_width=16", "model.d_width=16", "train.batch_size=32",
                                   "train.steps=5", "train.progress=false", "train.sample_every=0"])
    Trainer(cfg, str(run_dir)).fit()
    write_json_atomic(str(run_dir / CONFIG_NAME), to_dict(cfg))  # what makes the directory a run
    return run_dir


def evaluate_run(run_dir: Path, log: Path) -> dict:
    result = evaluate(None, str(run_dir), METRICS, n=N, features=RowCountingFeatures(log), seed=3, cache=False,
                      options={"kid": {"subset_size": 100}})
    return {name: result[name] for name in METRICS}


def rank_evaluates(run_dir: Path, out: Path) -> None:
    world = distributed.start("cpu")
    try:
        got = evaluate_run(run_dir, out.with_name(f"rows-{world.rank}.txt"))
        out.with_name(f"result-{world.rank}.json").write_text(json.dumps(got))
    finally:
        distributed.stop()


def test_two_ranks_give_the_one_process_metrics_from_half_the_rows_each(ring_run, tmp_path):
    want = evaluate_run(ring_run, tmp_path / "rows-one.txt")
    launch(2, rank_evaluates, ring_run, tmp_path / "result.json")
    for rank in (0, 1):
        got = json.loads((tmp_path / f"result-{rank}.json").read_text())
        for name in METRICS:
            for key, value in (want[name].items() if isinstance(want[name], dict) else [("", want[name])]):
                have = got[name][key] if key else got[name]
                assert have == pytest.approx(value, rel=1e-6, abs=1e-9), (name, key)
    one = [int(n) for n in (tmp_path / "rows-one.txt").read_text().split()]
    shares = [[int(n) for n in (tmp_path / f"rows-{r}.txt").read_text().split()] for r in (0, 1)]
    assert sum(one) == sum(shares[0]) + sum(shares[1])  # every row extracted once, on one of the ranks
    assert sum(shares[0]) == sum(shares[1]) == sum(one) // 2  # real and generated sets split evenly
