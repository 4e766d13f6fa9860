"""Progress bars: drawn only on a terminal, so captured output (logs, pipes, tests) stays clean."""

import contextlib
import io

import numpy as np
import torch

from gankit.cli import main
from gankit.metrics.classifier import features as classifier_features
from gankit.metrics.classifier import load_classifier
from gankit.progress import progress_bar
from gankit.train.progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_bar_is_drawn_on_a_terminal_only(monkeypatch):
    for stream, enabled, drawn in [(io.StringIO(), True, False), (Terminal(), True, True), (Terminal(), False, False)]:
        monkeypatch.setattr("sys.stderr", stream)
        with progress_bar(4, "work", "item", enabled) as bar:
            shown = not bar.disable
            for _ in range(4):
                bar.update(1)
        assert shown is drawn
        assert ("work" in stream.getvalue()) is drawn, stream.getvalue()


def test_training_bar_follows_the_terminal_too(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    with Progress(10, 3, True, "run") as bar:  # train.progress=true, but stderr is a pipe
        bar.update(5)
    assert stream.getvalue() == ""
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with Progress(10, 3, True, "run") as bar:
        bar.update(5)
    assert "run" in terminal.getvalue() and "5/10" in terminal.getvalue()


def test_classifier_features_are_unchanged_and_quiet(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    model = load_classifier("digits")
    x = torch.rand(7, 1, 8, 8) * 2 - 1
    batched = classifier_features(model, x, batch_size=3)  # three batches through the bar
    with torch.no_grad():
        whole = model.eval().features(x).double().numpy()
    np.testing.assert_allclose(batched, whole, rtol=1e-6, atol=1e-6)
    assert stream.getvalue() == ""


def test_eval_output_has_no_bar(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("real", "fake"):
        np.savez(tmp_path / f"{name}.npz", samples=rng.uniform(-1, 1, size=(30, 1, 8, 8)).astype(np.float32))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["eval", "--real", str(tmp_path / "real.npz"), "--fake", str(tmp_path / "fake.npz"),
                     "--features", "classifier", "--classifier", "digits", "--metrics", "kid,pr", "--no-cache"])
    assert code == 0 and err.getvalue() == ""
    assert "\r" not in out.getvalue() and "kid" in out.getvalue()
