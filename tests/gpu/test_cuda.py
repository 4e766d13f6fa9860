"""CUDA training: AMP (float16 with a GradScaler, bfloat16), a checkpoint written on the GPU
resumed on the CPU, and several GPUs under NCCL equal to one. Marked ``gpu``: skipped without CUDA
(benchmarks/gpu_check.sh runs them on a GPU machine)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from gankit.presets import load_preset
from gankit.runs.training import resume, train
from gankit.train import distributed
from gankit.train.checkpoint import CHECKPOINT_NAME, module_tensors
from gankit.train.trainer import Trainer
from tests.train.ddp_launch import launch

pytestmark = pytest.mark.gpu

DIGITS = ["data.resolution=16", "data.limit=512", "model.z_dim=16", "model.g_width=16", "model.d_width=16",
          "train.batch_size=32", "train.progress=false", "train.sample_every=0", "train.checkpoint_every=0",
          "train.device=cuda", "train.ema_bn_batches=2"]


def trained(tmp_path, *extra: str, bf16: bool = False, steps: int = 5) -> tuple[Trainer, dict]:
    trainer = Trainer(load_preset("digits-dcgan", [*DIGITS, f"train.steps={steps}", *extra]), str(tmp_path))
    initial = {k: v.clone() for k, v in module_tensors("modules", trainer.recipe.modules).items()}
    if bf16:
        trainer.amp_dtype, trainer.scaler = torch.bfloat16, None
    trainer.fit()
    return trainer, initial


def assert_finite_and_moved(trainer: Trainer, initial: dict) -> None:
    now = module_tensors("modules", trainer.recipe.modules)
    for key, value in now.items():
        assert value.is_cuda and torch.isfinite(value.float()).all(), key
    moved = [k for k in initial if initial[k].is_floating_point() and not torch.equal(now[k], initial[k])]
    assert len(moved) > len(initial) // 3


def test_float16_autocast_with_grad_scaler_trains_on_cuda(tmp_path):
    trainer, initial = trained(tmp_path, "train.amp=true")
    assert trainer.amp_dtype == torch.float16 and trainer.scaler is not None
    assert trainer.scaler.get_scale() > 0
    assert_finite_and_moved(trainer, initial)
    meta_scaler = trainer.state()[1]["scaler"]
    assert meta_scaler is not None and meta_scaler["scale"] == trainer.scaler.get_scale()


def test_bfloat16_autocast_trains_on_cuda_close_to_float32(tmp_path):
    bf16, initial = trained(tmp_path / "bf16", "train.amp=true", bf16=True)
    fp32, _ = trained(tmp_path / "fp32")
    assert_finite_and_moved(bf16, initial)
    for key, value in module_tensors("modules", fp32.recipe.modules).items():
        if value.is_floating_point() and "weight" in key:  # 5 Adam steps of lr 2e-4: bf16 rounding stays small
            torch.testing.assert_close(module_tensors("modules", bf16.recipe.modules)[key], value, rtol=0.05, atol=5e-3)


def test_checkpoint_written_on_gpu_resumes_on_cpu(tmp_path):
    cfg = load_preset("digits-dcgan", [*DIGITS, "train.steps=3", f"train.out_dir={tmp_path}", "train.run_name=r"])
    result = train(cfg)
    saved = load_file(tmp_path / "r" / CHECKPOINT_NAME)
    on_cpu = Trainer(load_preset("digits-dcgan", [*DIGITS, "train.steps=3", "train.device=cpu"]), str(tmp_path / "r"))
    on_cpu.load_checkpoint()
    for key, value in module_tensors("modules", on_cpu.recipe.modules).items():
        assert not value.is_cuda
        torch.testing.assert_close(value, saved[key], rtol=0, atol=0)
    done = resume(result.run_dir, ["train.device=cpu", "train.steps=5"])
    assert done.completed and done.steps == 5


def nccl_rank(run_dir: str, overrides: list[str]) -> None:
    distributed.start("cuda")
    try:
        Trainer(load_preset("digits-dcgan", overrides), run_dir).fit()
    finally:
        distributed.stop()


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="NCCL across GPUs needs at least two")
def test_two_gpus_under_nccl_equal_one_gpu(tmp_path):
    overrides = [*DIGITS, "train.steps=3"]
    Trainer(load_preset("digits-dcgan", overrides), str(tmp_path / "one")).fit()
    launch(2, nccl_rank, str(tmp_path / "two"), overrides, method="spawn")
    want, got = load_file(tmp_path / "one" / CHECKPOINT_NAME), load_file(tmp_path / "two" / CHECKPOINT_NAME)
    for key in want:
        if key.startswith(("modules/", "ema/")):
            torch.testing.assert_close(got[key], want[key], rtol=1e-4, atol=1e-5, msg=key)
