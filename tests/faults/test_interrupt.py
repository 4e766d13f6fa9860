"""Ctrl-C: the run writes its checkpoint and README and exits, drawing no plot (the plots are drawn
when ``gankit resume`` finishes the run); a second Ctrl-C while the README is written leaves the
previous README whole."""

import os

import pytest

from gankit import faults
from gankit.cli import main
from gankit.runs import artifacts, resume, train
from gankit.train.checkpoint import CHECKPOINT_NAME, load_checkpoint
from tests.helpers import tiny

PLOTS = ("plot_curves", "plot_density_2d", "plot_sample_histograms", "plot_samples_2d")


@pytest.fixture(autouse=True)
def _disarmed():
    faults.arm(None)
    yield
    faults.arm(None)


@pytest.fixture
def plot_calls(monkeypatch):
    """How often each plotting function of gankit.runs.artifacts was called (they still draw)."""
    calls = dict.fromkeys(PLOTS, 0)
    for name in PLOTS:
        real = getattr(artifacts, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(artifacts, name, counted)
    return calls


def _config(tmp_path):
    return tiny("ring-gan", tmp_path, "train.steps=8", "train.run_name=run", "train.checkpoint_every=2")


def test_ctrl_c_writes_checkpoint_and_readme_and_draws_no_plot(tmp_path, plot_calls):
    faults.arm("train.step@3:sigint")  # Ctrl-C during step 3
    result = train(_config(tmp_path))
    assert not result.completed and result.steps == 3
    assert plot_calls == dict.fromkeys(PLOTS, 0)
    run_dir = tmp_path / "run"
    assert load_checkpoint(str(run_dir / CHECKPOINT_NAME))[1]["step"] == 3
    readme = (run_dir / "README.md").read_text()
    assert "stopped early" in readme and "- plots: not drawn" in readme and "loss_curves.png" not in readme
    assert sorted(p.name for p in run_dir.iterdir()) == ["README.md", CHECKPOINT_NAME, "config.json", "stats.jsonl"]

    faults.arm(None)
    finished = resume(str(run_dir))  # the resume that finishes the run draws what the stop skipped
    assert finished.completed and finished.steps == 8
    assert plot_calls["plot_curves"] == 1 and plot_calls["plot_density_2d"] == 1
    assert plot_calls["plot_sample_histograms"] == 1 and plot_calls["plot_samples_2d"] == 1  # samples_final
    assert (run_dir / "loss_curves.png").is_file() and "- plots: not drawn" not in (run_dir / "README.md").read_text()


def test_cli_exit_status_after_ctrl_c(tmp_path, capsys):
    faults.arm("train.step@2:sigint")
    cfg_args = ["train", "--preset", "ring-gan", "--out", str(tmp_path), "train.run_name=run", "train.steps=8",
                "data.n_samples=512", "model.g_width=16", "model.d_width=16", "train.batch_size=32",
                "train.progress=false"]
    assert main(cfg_args) == 130
    assert "stopped early" in capsys.readouterr().out
    assert not (tmp_path / "run" / "loss_curves.png").exists()


def test_second_ctrl_c_while_the_readme_is_written_keeps_the_previous_readme(tmp_path, capsys):
    faults.arm("train.step@3:sigint")
    train(_config(tmp_path))
    run_dir = tmp_path / "run"
    before = (run_dir / "README.md").read_bytes()
    # the resume finishes training, draws the plots, and is interrupted while it writes the README
    faults.arm("write:README.md@1:sigint")
    assert main(["resume", str(run_dir)]) == 130
    assert "gankit: interrupted" in capsys.readouterr().err
    assert (run_dir / "README.md").read_bytes() == before
    assert not [n for n in os.listdir(run_dir) if n.endswith(".tmp")]  # the temp file went with the interrupt
    assert load_checkpoint(str(run_dir / CHECKPOINT_NAME))[1]["step"] == 8
