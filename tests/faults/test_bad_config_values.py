"""Config values that used to get through (a silent NaN run, -1 acting on every step) or end in
a traceback after the run directory was half made: each is a ConfigError before anything is
written, and one ``gankit: error:`` line with exit 2 from the CLI."""

import pytest

from gankit.cli import main
from gankit.config import OptimConfig, TrainConfig, load_toml
from gankit.errors import ConfigError
from gankit.presets import load_preset

BAD = [
    ("optim.lr_g=-1", "optim.lr_g"),
    ("optim.lr_g=nan", "optim.lr_g"),
    ("optim.lr_g=inf", "optim.lr_g"),
    ("optim.lr_d=0", "optim.lr_d"),
    ("optim.beta1=2", "optim.beta1"),
    ("optim.beta2=-0.1", "optim.beta2"),
    ("optim.beta2=1", "optim.beta2"),
    ("optim.weight_decay=-1", "optim.weight_decay"),
    ("optim.decay_start=nan", "optim.decay_start"),
    ("train.ema_decay=1.5", "train.ema_decay"),
    ("train.ema_decay=-0.5", "train.ema_decay"),
    ("train.ema_decay=nan", "train.ema_decay"),
    ("train.log_every=0", "train.log_every"),
    ("train.log_every=-1", "train.log_every"),
    ("train.steps=-5", "train.steps"),
    ("train.steps=0", "train.steps"),
    ("train.sample_every=-1", "train.sample_every"),
    ("train.checkpoint_every=-1", "train.checkpoint_every"),
    ("train.n_grid=0", "train.n_grid"),
    ("train.seed=-1", "train.seed"),
    ("train.seed=18446744073709551616", "train.seed"),  # 2**64: torch.manual_seed would overflow
    ("train.batch_size=0", "train.batch_size"),
    ("train.ema_start=-1", "train.ema_start"),
]


@pytest.mark.parametrize("override, key", BAD, ids=[b[0] for b in BAD])
def test_bad_value_is_a_config_error_naming_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_preset("ring-gan", [override])


@pytest.mark.parametrize("override, key", BAD[:6] + BAD[12:16], ids=[b[0] for b in BAD[:6] + BAD[12:16]])
def test_cli_refuses_with_one_line_and_writes_nothing(tmp_path, capsys, override, key):
    out = tmp_path / "runs"
    assert main(["train", "--preset", "ring-gan", "--out", str(out), override]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gankit: error: ") and key in err
    assert not out.exists()  # refused before the run directory was made


@pytest.mark.parametrize(
    "override",
    ["optim.lr_g=1e-4", "optim.beta1=0", "optim.beta2=0.99", "train.ema_decay=0", "train.ema_decay=0.9999",
     "train.sample_every=0", "train.checkpoint_every=0", "train.steps=1", "train.log_every=1", "train.seed=0",
     "train.n_grid=1", "optim.weight_decay=0"],
)
def test_edge_values_that_make_sense_are_accepted(override):
    load_preset("ring-gan", [override])  # the boundaries themselves stay usable


def test_the_dataclasses_check_themselves_without_the_parser():
    with pytest.raises(ConfigError, match=r"optim\.beta1"):
        OptimConfig(beta1=1.0)
    with pytest.raises(ConfigError, match=r"train\.log_every"):
        TrainConfig(log_every=0)
    assert TrainConfig().log_every == 10 and OptimConfig().lr_g == 2e-4  # defaults pass


def test_non_utf8_preset_file_is_a_config_error(tmp_path, capsys):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"[train]\nsteps = 10\n# \xff\xfe\x80 not text\n")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_toml(str(path))
    assert main(["train", "--dry-run", "--preset", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "binary.toml" in err and "UTF-8" in err


def test_a_directory_as_preset_file_is_a_config_error(tmp_path):
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    with pytest.raises(ConfigError, match="dir.toml"):
        load_toml(str(folder))


def test_toml_dates_are_refused_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "dated.toml"
    path.write_text('description = 1979-05-27\n[train]\nsteps = 10\n', encoding="utf-8")
    assert main(["train", "--dry-run", "--preset", str(path)]) == 2
    assert capsys.readouterr().err.startswith("gankit: error: ")
