"""gankit.faults: GANKIT_FAULT arms one site; the n-th hit acts (kill, Ctrl-C, a full disk); the
windows it opens leave the previous file intact, and write errors name the file, not a temp file."""

import errno
import os
import signal
import subprocess
import sys

import pytest

from gankit import faults
from gankit.atomic import atomic_write
from gankit.errors import ConfigError
from gankit.train.stats import Reporter


@pytest.fixture(autouse=True)
def _disarmed():
    faults.arm(None)
    yield
    faults.arm(None)


@pytest.mark.parametrize(
    "text, site, nth, action",
    [
        ("checkpoint.write@2", "checkpoint.write", 2, "kill"),
        ("write:step_*.png@1:enospc", "write:step_*.png", 1, "enospc"),
        ("train.step@30:sigint", "train.step", 30, "sigint"),
        ("a@b@3", "a@b", 3, "kill"),
    ],
)
def test_parse_fault(text, site, nth, action):
    plan = faults.parse_fault(text)
    assert (plan.site, plan.nth, plan.action, plan.hits) == (site, nth, action, 0)


@pytest.mark.parametrize("text", ["checkpoint.write", "@2", "x@0", "x@-1", "x@two", "x@2:explode", "x@2:"])
def test_bad_fault_text_is_one_config_error(text):
    with pytest.raises(ConfigError, match="GANKIT_FAULT") as info:
        faults.parse_fault(text)
    assert "\n" not in str(info.value)


def test_only_the_nth_hit_of_the_armed_site_acts():
    faults.arm("stats.flush@3:enospc")
    faults.fault_point("checkpoint.write")  # another site: not counted
    faults.fault_point("stats.flush")
    faults.fault_point("stats.flush")
    with pytest.raises(OSError) as info:
        faults.fault_point("stats.flush")
    assert info.value.errno == errno.ENOSPC
    faults.fault_point("stats.flush")  # the 4th hit: nothing, the fault fired once


def test_unarmed_fault_points_do_nothing(monkeypatch):
    monkeypatch.delenv(faults.ENV, raising=False)
    monkeypatch.setattr(faults, "_plan", faults._UNREAD)
    for _ in range(3):
        faults.fault_point("checkpoint.write")
        faults.write_fault_point("README.md", None)
    assert faults._plan is None  # the environment was read once, found empty


def test_write_sites_match_file_names_by_glob(tmp_path):
    faults.arm("write:step_*.png@2:enospc")
    with atomic_write(tmp_path / "README.md", "w") as fh:  # not a match
        fh.write("x")
    with atomic_write(tmp_path / "step_000001.png") as fh:
        fh.write(b"first")
    (tmp_path / "step_000002.png").write_bytes(b"previous")
    with pytest.raises(OSError) as info:
        with atomic_write(tmp_path / "step_000002.png") as fh:
            fh.write(b"second")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "step_000002.png")
    assert (tmp_path / "step_000002.png").read_bytes() == b"previous"  # the old file, untouched
    assert sorted(os.listdir(tmp_path)) == ["README.md", "step_000001.png", "step_000002.png"]  # no temp file


def test_a_write_error_names_the_target_not_the_temp_file(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError) as info:
        with atomic_write(tmp_path / "checkpoint.safetensors") as fh:
            fh.write(b"bytes")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert info.value.filename == str(tmp_path / "checkpoint.safetensors")
    assert info.value.strerror == os.strerror(errno.ENOSPC) and os.listdir(tmp_path) == []


def test_an_unopenable_temp_file_names_the_target(tmp_path, monkeypatch):
    real_open = os.open

    def read_only(path, *args):
        if str(path).endswith(".tmp"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))  # as the kernel reports it
        return real_open(path, *args)

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(OSError) as info:
        with atomic_write(tmp_path / "config.json", "w") as fh:
            fh.write("{}")
    monkeypatch.setattr(os, "open", real_open)
    assert info.value.filename == str(tmp_path / "config.json") and info.value.errno == errno.EROFS


def test_stats_flush_fault_leaves_half_a_line_and_names_the_file(tmp_path):
    path = tmp_path / "stats.jsonl"
    reporter = Reporter(str(path))
    reporter.report("Loss/D", 1.0)
    reporter.flush(1)
    faults.arm("stats.flush@1:enospc")  # counts from here
    reporter.report("Loss/D", 2.0)
    with pytest.raises(OSError) as info:
        reporter.flush(2)
    reporter.close()
    assert info.value.filename == str(path) and info.value.errno == errno.ENOSPC
    first, partial = path.read_text().split("\n")
    assert first.startswith('{"step": 1,') and partial.startswith('{"step": 2') and not partial.endswith("}")


def test_kill_and_sigint_actions_signal_the_process_itself(tmp_path):
    code = "from gankit import faults\nfor _ in range(3):\n    faults.fault_point('train.step')\nprint('survived')"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for action, sig in (("kill", signal.SIGKILL), ("sigint", signal.SIGINT)):
        env[faults.ENV] = f"train.step@2:{action}"
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        if action == "kill":
            assert proc.returncode == -sig and "survived" not in proc.stdout
        else:  # Python's default SIGINT handler: KeyboardInterrupt
            assert proc.returncode != 0 and "KeyboardInterrupt" in proc.stderr
