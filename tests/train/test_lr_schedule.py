import pytest

from gankit.config import OptimConfig
from gankit.errors import ConfigError
from gankit.train.optim import lr_factor
from gankit.train.trainer import Trainer
from tests.helpers import tiny


def test_constant_schedule_is_one_everywhere():
    cfg = OptimConfig()
    assert [lr_factor(s, 10, cfg) for s in (0, 5, 9)] == [1.0, 1.0, 1.0]


def test_linear_decay_by_hand():
    cfg = OptimConfig(lr_decay="linear", decay_start=0.5)
    # total 10, start 5: factors (10 - s) / 5 from step 5 on
    assert [lr_factor(s, 10, cfg) for s in range(10)] == [1, 1, 1, 1, 1, 1.0, 0.8, 0.6, 0.4, 0.2]


def test_decay_start_out_of_range_is_a_config_error():
    with pytest.raises(ConfigError, match="decay_start"):
        OptimConfig(decay_start=1.0)


def test_trainer_applies_the_factor_to_every_optimizer(tmp_path):
    cfg = tiny("ring-gan", tmp_path, "optim.lr_decay=linear", "optim.decay_start=0", "train.steps=4",
               "optim.lr_g=0.004", "optim.lr_d=0.002")
    trainer = Trainer(cfg, str(tmp_path / "run"))
    for _ in range(3):
        trainer.train_step()
    # the step just taken was step 2: factor (4 - 2) / 4
    assert trainer.optimizers["G"].param_groups[0]["lr"] == pytest.approx(0.004 * 0.5)
    assert trainer.optimizers["D"].param_groups[0]["lr"] == pytest.approx(0.002 * 0.5)
