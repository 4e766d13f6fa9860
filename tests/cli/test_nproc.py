"""``gankit train --nproc N`` starts the run on N processes through torch.distributed.run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from gankit.cli import main
from gankit.presets import load_preset
from gankit.runs.launch import torchrun_command, without_nproc
from gankit.train.checkpoint import CHECKPOINT_NAME
from gankit.train.trainer import Trainer

REPO = Path(__file__).resolve().parents[2]
RUN = ["data.n_samples=256", "model.g_width=16", "model.d_width=16", "train.batch_size=32", "train.steps=2",
       "train.progress=false", "train.sample_every=0", "train.checkpoint_every=0", "recipe.gp_weight=1"]


def test_nproc_is_removed_from_the_command_torchrun_starts():
    argv = ["train", "--nproc", "2", "--preset", "ring-gan", "--nproc=3", "train.steps=5"]
    assert without_nproc(argv) == ["train", "--preset", "ring-gan", "train.steps=5"]
    cmd = torchrun_command(2, argv)
    assert cmd[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert cmd[-6:] == ["-m", "gankit", "train", "--preset", "ring-gan", "train.steps=5"]
    assert "--nproc_per_node=2" in cmd and "--standalone" in cmd


@pytest.mark.slow  # torchrun's agent and two interpreters: tens of seconds on a busy machine
def test_train_on_two_processes_writes_one_run_equal_to_one_process(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "gankit", "train", "--preset", "ring-gan", "--nproc", "2", "--out", str(tmp_path),
         "train.run_name=two", *RUN], env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("run directory:") == 1  # rank 0 reports; rank 1 writes nothing
    run = tmp_path / "two"
    assert {"config.json", "stats.jsonl", CHECKPOINT_NAME, "README.md"} <= {p.name for p in run.iterdir()}
    want = Trainer(load_preset("ring-gan", RUN), str(tmp_path / "one"))
    want.fit()
    got, ref = load_file(run / CHECKPOINT_NAME), load_file(tmp_path / "one" / CHECKPOINT_NAME)
    for key in ref:
        if key.startswith(("modules/", "ema/", "optim/")):
            torch.testing.assert_close(got[key], ref[key], rtol=2e-5, atol=1e-6, msg=key)


def test_a_config_that_processes_cannot_share_is_one_line_and_exit_2(tmp_path, capsys):
    code = main(["train", "--preset", "ring-gan", "--nproc", "2", "--out", str(tmp_path), *RUN, "train.batch_size=33"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "divisible by the number of processes (2)" in err
    assert main(["train", "--preset", "ring-gan", "--nproc", "0", "--out", str(tmp_path), *RUN]) == 2
    assert "--nproc must be >= 1" in capsys.readouterr().err
    assert main(["train", "--preset", "mnist-vae", "--nproc", "2", "--out", str(tmp_path)]) == 2
    assert "does not train on several processes" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_resume_on_processes_checks_the_runs_config_first(tmp_path, capsys):
    assert main(["train", "--preset", "ring-gan", "--out", str(tmp_path), "train.run_name=r", *RUN,
                 "train.batch_size=33", "train.steps=1"]) == 0
    capsys.readouterr()
    before = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert main(["resume", str(tmp_path / "r"), "train.steps=2", "--nproc", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train.batch_size=33 must be divisible by the number of processes (2)" in err
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == before
