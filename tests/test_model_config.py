"""``[model]`` per network family: the family's keys and its discriminator's, nothing else;
recipes refuse, at parse time, a discriminator they cannot read."""

import dataclasses
import json

import pytest

from gankit.cli import main
from gankit.config import to_dict
from gankit.errors import ConfigError
from gankit.experiment import config_from_dict
from gankit.nets import DCGANConfig, DefaultDOptions, MLPConfig, ModelConfig, PatchGANOptions, model_config_class
from gankit.presets import load_preset, preset_names

COMMON = {f.name for f in dataclasses.fields(ModelConfig)}


def names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_the_model_class_is_the_family_plus_its_discriminator():
    mlp_default = model_config_class("mlp", "default")
    assert names(mlp_default) == names(MLPConfig) | names(DefaultDOptions)
    dcgan_patch = model_config_class("dcgan", "patchgan")
    assert names(dcgan_patch) == names(DCGANConfig) | names(PatchGANOptions)
    assert "mlp_layers" not in names(DCGANConfig) and "g_fc" not in names(MLPConfig)
    assert "d_class_head" not in names(dcgan_patch) and "d_layers" not in names(mlp_default)
    assert COMMON <= names(MLPConfig) and COMMON <= names(DCGANConfig)


@pytest.mark.parametrize("preset", preset_names())
def test_dry_run_prints_only_the_keys_of_the_chosen_networks(preset, capsys):
    assert main(["train", "--preset", preset, "--dry-run"]) == 0
    model = json.loads(capsys.readouterr().out)["model"]
    assert set(model) == names(model_config_class(model["arch"], model["d_arch"]))


@pytest.mark.parametrize(
    "preset, override, fragment",
    [
        ("digits-dcgan", "model.mlp_layers=2", "unknown key model.mlp_layers"),
        ("ring-gan", "model.g_fc=16", "unknown key model.g_fc"),
        ("ring-gan", "model.d_layers=2", "unknown key model.d_layers"),  # a PatchGAN key, D is the MLP's own
        ("digits-dcgan", "model.arch=resnet9", "unknown network family (model.arch) 'resnet9'"),
        ("digits-dcgan", "model.d_arch=nope", "unknown discriminator architecture (model.d_arch) 'nope'"),
        ("ring-gan", "model.d_arch=autoencoder", "recipe gan reads D's output as logits"),
        ("mnist-acgan", "model.d_arch=patchgan", "unknown key model.d_class_head"),  # the preset's head
        ("mnist-vaegan", "model.d_arch=autoencoder", "recipe vaegan needs model.d_arch=default"),
    ],
)
def test_a_key_or_discriminator_the_networks_do_not_have_is_refused_at_parse_time(preset, override, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        load_preset(preset, [override])


def test_recipes_name_the_discriminator_they_need():
    cfg = config_from_dict({"model": {"arch": "mlp", "d_arch": "autoencoder", "ae_code_dim": 4},
                            "recipe": {"name": "ebgan"}})
    assert (cfg.model.d_arch, cfg.model.ae_code_dim) == ("autoencoder", 4)
    with pytest.raises(ConfigError, match="recipe ebgan needs model.d_arch=autoencoder"):
        config_from_dict({"model": {"arch": "mlp"}, "recipe": {"name": "ebgan"}})
    with pytest.raises(ConfigError, match="recipe acgan needs model.d_arch=default"):
        config_from_dict({"model": {"arch": "dcgan", "d_arch": "patchgan"}, "recipe": {"name": "acgan"}})


def test_the_cli_refuses_before_anything_is_written(tmp_path, capsys):
    assert main(["train", "--preset", "ring-gan", f"train.out_dir={tmp_path}", "model.d_arch=autoencoder"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "reads D's output as logits" in err[0]
    assert not any(tmp_path.iterdir())


def test_a_saved_config_round_trips_with_its_family_class():
    cfg = load_preset("ring-gan", ["model.d_arch=patchgan", "model.d_layers=2"])
    again = config_from_dict(json.loads(json.dumps(to_dict(cfg))))
    assert again == cfg and type(again.model) is type(cfg.model)
