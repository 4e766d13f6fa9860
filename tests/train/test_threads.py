"""train.threads: the auto rule, OMP_NUM_THREADS, validation, where the trainer and load_run apply it, resume."""

import os
import warnings

import pytest
import torch

from gankit.errors import ConfigError
from gankit.runs import load_run, resume, train
from gankit.train import threads as th
from gankit.train.checkpoint import load_checkpoint
from gankit.train.trainer import Trainer
from tests.helpers import tiny


@pytest.fixture(autouse=True)
def _restore_threads(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture
def six_cores(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5})
    monkeypatch.setattr(th, "CPU_TOPOLOGY", str(tmp_path / "no-topology"))  # each CPU its own core


@pytest.fixture
def calls(monkeypatch):
    """Record torch.set_num_threads calls (the real count is left alone)."""
    seen = []
    monkeypatch.setattr(torch, "set_num_threads", seen.append)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 99)  # never the count asked for
    return seen


def test_allowed_cores_counts_smt_siblings_once(tmp_path, monkeypatch):
    # 4 logical CPUs: 0 and 2 are the two threads of core 0, 1 and 3 of core 1; cpu5 has no topology
    for cpu, core in ((0, 0), (1, 1), (2, 0), (3, 1)):
        folder = tmp_path / f"cpu{cpu}" / "topology"
        folder.mkdir(parents=True)
        (folder / "physical_package_id").write_text("0\n")
        (folder / "core_id").write_text(f"{core}\n")
    monkeypatch.setattr(th, "CPU_TOPOLOGY", str(tmp_path))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert th.allowed_cores() == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2})  # pinned to one core's two threads
    assert th.allowed_cores() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5})  # unreadable topology: its own core
    assert th.allowed_cores() == 3


def test_auto_rule_by_hand(six_cores):
    assert th.allowed_cores() == 6  # the affinity mask, not os.cpu_count() (2 here)
    # a 3x64 MLP pair (17,219 parameters) on batches of 256 2-D points: 17,219 * 512 = 8.8e6 < threshold
    assert th.resolve_threads("auto", 17_219, 256 * 2) == 1
    # DCGAN-28 on MNIST: 270,754 parameters x 64 * 28 * 28 = 1.4e10 >= threshold -> every allowed core
    assert th.resolve_threads("auto", 270_754, 64 * 28 * 28) == 6
    # 10^6 parameters on 64 RGB 64x64 images: 1e6 * 786,432 = 7.9e11 >= threshold -> every allowed core
    assert th.resolve_threads("auto", 10**6, 64 * 3 * 64 * 64) == 6
    t = th.AUTO_WORK_THRESHOLD
    assert th.auto_threads(1, t - 1, cores=6) == 1 and th.auto_threads(1, t, cores=6) == 6
    assert th.auto_threads(10**9, 10**9, cores=1) == 1  # never more than the allowed cores


def test_explicit_count_and_omp_num_threads(six_cores, monkeypatch):
    big = (10**6, 10**6)
    assert th.resolve_threads(3, *big) == 3 and th.resolve_threads(1, *big) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert th.env_threads() == 4
    assert th.resolve_threads("auto", 1, 1, env=th.env_threads()) == 4  # the user's variable beats the rule
    assert th.resolve_threads(2, 1, 1, env=th.env_threads()) == 2  # an explicit train.threads beats the variable
    for junk in ("", "0", "-2", "two", "2,1"):
        monkeypatch.setenv("OMP_NUM_THREADS", junk)
        assert th.env_threads() is None, junk


def test_count_parameters_counts_shared_tensors_once():
    lin = torch.nn.Linear(3, 4)  # 12 + 4
    assert th.count_parameters([lin, torch.nn.Sequential(lin), torch.nn.Linear(2, 1)]) == 16 + 3


@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5", "true"])
def test_bad_values_are_refused_in_one_line(tmp_path, value):
    with pytest.raises(ConfigError) as exc:
        tiny("ring-gan", tmp_path, f"train.threads={value}")
    assert "train.threads" in str(exc.value) and "\n" not in str(exc.value)


def test_good_values_parse(tmp_path):
    assert tiny("ring-gan", tmp_path).train.threads == "auto"
    assert tiny("ring-gan", tmp_path, "train.threads=3").train.threads == 3
    assert tiny("ring-gan", tmp_path, "train.threads=auto").train.threads == "auto"


def test_trainer_applies_the_count(tmp_path, calls, six_cores, monkeypatch):
    Trainer(tiny("ring-gan", tmp_path), str(tmp_path / "a"))
    Trainer(tiny("ring-gan", tmp_path, "train.threads=3"), str(tmp_path / "b"))
    monkeypatch.setattr(th, "AUTO_WORK_THRESHOLD", 1)  # every model is "large"
    trainer = Trainer(tiny("ring-gan", tmp_path), str(tmp_path / "c"))
    assert calls == [1, 3, 6]
    assert trainer.threads == 6


def test_the_count_is_logged_and_load_run_applies_it(tmp_path, monkeypatch):
    run_dir = train(tiny("ring-gan", tmp_path, "train.steps=4", "train.run_name=r", "train.threads=2")).run_dir
    with open(os.path.join(run_dir, "README.md")) as fh:
        assert "- torch threads: 2 (train.threads=2)" in fh.read()
    seen = []
    monkeypatch.setattr(torch, "set_num_threads", seen.append)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 99)
    load_run(run_dir)
    assert seen == [2]


def test_resume_picks_the_same_count_and_stays_exact(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(th, "AUTO_WORK_THRESHOLD", 1)  # auto -> both allowed cores
    n, k = 6, 3
    full = train(tiny("ring-gan", tmp_path, f"train.steps={n}", "train.run_name=full")).run_dir
    part = train(tiny("ring-gan", tmp_path, f"train.steps={k}", "train.run_name=part")).run_dir
    torch.set_num_threads(1)  # a fresh process may start with another count; the trainer restores auto's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resume(part, [f"train.steps={n}"])
    assert [str(w.message) for w in caught if "threads" in str(w.message)] == []
    assert torch.get_num_threads() == 2
    ta, ma = load_checkpoint(os.path.join(full, "checkpoint.safetensors"))
    tb, mb = load_checkpoint(os.path.join(part, "checkpoint.safetensors"))
    assert ma["rng"]["torch_threads"] == mb["rng"]["torch_threads"] == 2
    assert sorted(ta) == sorted(tb)
    for key in ta:
        torch.testing.assert_close(ta[key], tb[key], rtol=0, atol=0, msg=f"{key} differs")
