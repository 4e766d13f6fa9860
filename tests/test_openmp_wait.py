"""The bounded OpenMP spin-wait that importing gankit sets (gankit.openmp_wait)."""

import json
import os
import subprocess
import sys
import warnings

from gankit import openmp_wait
from gankit.train import threads as th


def test_bound_spin_wait_sets_the_count_unless_the_user_chose():
    env = {}
    assert openmp_wait.bound_spin_wait(env, torch_loaded=False) is True
    assert env == {"GOMP_SPINCOUNT": "1000"}
    env = {}
    assert openmp_wait.bound_spin_wait(env, torch_loaded=True) is False  # libgomp has read the environment
    assert env == {"GOMP_SPINCOUNT": "1000"}  # still set: child processes inherit it
    for user in ({"GOMP_SPINCOUNT": "0"}, {"OMP_WAIT_POLICY": "PASSIVE"}, {"OMP_WAIT_POLICY": "active"}):
        env = dict(user)
        assert openmp_wait.bound_spin_wait(env, torch_loaded=True) is True
        assert env == user  # the user's choice is left alone


def fresh_process(code: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    env.update(extra)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


REPORT = ("import json, os, sys; from gankit import openmp_wait as w; "
          "print(json.dumps([os.environ.get('GOMP_SPINCOUNT'), w.SPIN_BOUNDED, int('torch' in sys.modules)]))")


def test_importing_gankit_first_bounds_the_spin_before_torch_loads():
    spin, bounded, torch_loaded = fresh_process("import gankit; " + REPORT)
    assert (spin, bounded, torch_loaded) == ("1000", True, 1)


def test_torch_imported_first_is_reported_and_the_user_choice_kept():
    assert fresh_process("import torch, gankit; " + REPORT)[:2] == ["1000", False]
    assert fresh_process("import torch, gankit; " + REPORT, GOMP_SPINCOUNT="5")[:2] == ["5", True]


def test_several_threads_with_an_unbounded_spin_warn_once(monkeypatch):
    monkeypatch.setattr(openmp_wait, "SPIN_BOUNDED", False)
    monkeypatch.setattr(th, "_warned", set())
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(th.torch, "set_num_threads", lambda n: None)
    lin = {"g": th.torch.nn.Linear(1000, 1000)}  # 1e6 parameters x 4096 elements >= the threshold
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert th.run_threads(2, lin, 64, (64,)) == 2
        assert th.run_threads(2, lin, 64, (64,)) == 2
        assert th.run_threads(1, lin, 64, (64,)) == 1  # one thread never spins for a partner
    msgs = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(msgs) == 1 and "GOMP_SPINCOUNT=1000" in msgs[0]


def test_no_warning_when_bounded(monkeypatch):
    monkeypatch.setattr(openmp_wait, "SPIN_BOUNDED", True)
    monkeypatch.setattr(th, "_warned", set())
    monkeypatch.setattr(th.torch, "set_num_threads", lambda n: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        th.run_threads(2, {"g": th.torch.nn.Linear(2, 2)}, 4, (2,))
