import pytest

from gankit.config import apply_overrides, to_dict
from gankit.errors import ConfigError
from gankit.experiment import config_from_dict
from gankit.presets import load_preset, preset_names

EXPECTED_PRESETS = {"digits-dcgan", "ring-gan", "grid-gan", "mnist-dcgan", "fashion-dcgan", "mnist-wgan-gp"}


def test_all_required_presets_exist_and_every_preset_parses():
    assert EXPECTED_PRESETS <= set(preset_names())
    for name in preset_names():
        cfg = load_preset(name)  # ConfigError on an unknown key or a bad value
        assert cfg.name == name and cfg.description, name


def test_stacked_pacgan_preset_is_the_benchmarked_configuration():
    cfg = load_preset("stacked-mnist-pacgan")  # README's best Stacked-MNIST run: these values
    assert (cfg.recipe.name, cfg.recipe.loss, cfg.recipe.pack) == ("gan", "ns", 2)
    assert (cfg.model.g_width, cfg.model.d_width, cfg.model.z_dim, cfg.train.amp) == (96, 128, 64, True)
    assert (cfg.data.name, cfg.train.batch_size, cfg.optim.lr_g, cfg.optim.lr_d) == ("stacked-mnist", 64, 2e-4, 2e-4)


def test_overrides_are_typed():
    cfg = load_preset("ring-gan", ["train.steps=123", "optim.lr_d=3e-4", "train.amp=true", "recipe.loss=hinge"])
    assert cfg.train.steps == 123 and isinstance(cfg.train.steps, int)
    assert cfg.optim.lr_d == 3e-4
    assert cfg.train.amp is True
    assert cfg.recipe.loss == "hinge"


def test_wgan_gp_preset_values():
    cfg = load_preset("mnist-wgan-gp")
    assert (cfg.recipe.loss, cfg.recipe.n_critic, cfg.recipe.gp_weight, cfg.model.d_norm) == ("wgan", 5, 10.0, "layer")


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("train.stepz=3", "unknown key train.stepz"),
        ("train.steps=abc", "expected an integer"),
        ("train.steps=1.5", "expected an integer"),
        ("train.amp=maybe", "true/false"),
        ("model.d_norm=group", "not one of"),
        ("recipe.loss=nope", "unknown loss 'nope'"),
        ("recipe.n_critic=0", "n_critic must be >= 1"),
        ("recipe.name=nope", "unknown recipe 'nope'"),
        ("nosection.key=1", "unknown key nosection"),
        ("steps=3", "section.key=value"),
    ],
)
def test_bad_overrides_raise_config_error(override, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load_preset("ring-gan", [override])


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown preset 'nope'"):
        load_preset("nope")


def test_round_trip_through_dict():
    cfg = load_preset("mnist-wgan-gp", ["train.steps=7"])
    assert config_from_dict(to_dict(cfg)) == cfg


def test_apply_overrides_does_not_mutate():
    tree = {"train": {"steps": 1}}
    out = apply_overrides(tree, ["train.steps=5"])
    assert tree == {"train": {"steps": 1}} and out == {"train": {"steps": "5"}}


def test_toml_file_as_preset(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('description = "x"\n[data]\nname = "ring"\n[model]\narch = "mlp"\n[train]\nsteps = 9\n')
    cfg = load_preset(str(path))
    assert (cfg.name, cfg.data.name, cfg.train.steps) == ("mine", "ring", 9)
    path.write_text("[data\nname=")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_preset(str(path))
