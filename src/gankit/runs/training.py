"""Training into a run directory and resuming one exactly where its checkpoint left it."""

from __future__ import annotations

import contextlib
import os
import re
import time
import warnings
from dataclasses import dataclass
from typing import Any

import torch

from gankit.config import ExperimentConfig, apply_overrides, to_dict
from gankit.data.base import Dataset
from gankit.errors import CheckpointError, ConfigError
from gankit.experiment import config_from_dict
from gankit.runs.artifacts import RunArtifacts
from gankit.runs.files import CONFIG_NAME, checkpoint_meta, read_config
from gankit.train import checkpoint as ckpt
from gankit.train import distributed
from gankit.train.trainer import Trainer, write_json_atomic

# what may change when a run is resumed: nothing that alters the maths of the run (the non-finite policy only
# acts once a run has met a NaN or Inf)
RESUMABLE = ("steps", "progress", "log_every", "sample_every", "checkpoint_every", "device", "on_nonfinite",
             "max_rollbacks")


@dataclass
class RunResult:
    run_dir: str
    steps: int
    completed: bool  # False when stopped early by a signal


def new_run_dir(cfg: ExperimentConfig) -> str:
    """``train.out_dir/train.run_name`` (default: preset name + timestamp); a name that would put
    the run outside ``train.out_dir`` (``..``, an absolute path) or over an existing run is refused."""
    name = cfg.train.run_name or f"{cfg.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir = os.path.join(cfg.train.out_dir, name)
    out, target = os.path.realpath(cfg.train.out_dir), os.path.realpath(run_dir)
    if target == out or os.path.commonpath([out, target]) != out:
        raise ConfigError(
            f"train.run_name={name!r} is not a directory inside train.out_dir={cfg.train.out_dir!r}; "
            "give a plain name such as my-run"
        )
    if os.path.exists(os.path.join(run_dir, ckpt.CHECKPOINT_NAME)):
        raise ConfigError(f"{run_dir} already holds a run; use `gankit resume {run_dir}` or another train.run_name")
    return run_dir


def _run(trainer: Trainer) -> RunResult:
    """Train; rank 0 (or the only process) writes the run's files, then every rank waits for the others."""
    if not trainer.world.writes:  # another rank of a several-process run: train, write nothing
        completed = trainer.fit()
    else:
        artifacts = RunArtifacts(trainer)
        completed = trainer.fit(on_event=artifacts.on_event)
        artifacts.finish(completed)
    distributed.finish_together(trainer.world)
    return RunResult(trainer.run_dir, trainer.step, completed)


def train(cfg: ExperimentConfig, run_dir: str | None = None, dataset: Dataset | None = None) -> RunResult:
    """Train ``cfg`` into a new run directory (``train.out_dir/train.run_name``), or into one whose
    run was killed before its first checkpoint (its temp files are removed). Under ``torchrun``
    every process trains its share and rank 0 writes the run (docs/distributed.md)."""
    world = distributed.start(cfg.train.device)
    try:
        run_dir = distributed.broadcast_object(run_dir or (new_run_dir(cfg) if world.writes else None), world)
        trainer = Trainer(cfg, run_dir, dataset)  # validates everything before writing anything
        if world.writes:
            os.makedirs(run_dir, exist_ok=True)
            remove_stale_temp_files(run_dir)  # a run killed before its first checkpoint, trained again
            write_json_atomic(os.path.join(run_dir, CONFIG_NAME), to_dict(cfg))
        return _run(trainer)
    finally:
        distributed.stop()


def resume(run_dir: str, overrides: list[str] | None = None, dataset: Dataset | None = None) -> RunResult:
    """Continue a run exactly where its checkpoint left it. Only ``train.steps`` and
    bookkeeping keys (``RESUMABLE``) may be overridden. Refused before anything is written: a
    damaged checkpoint, one whose config differs from the run's ``config.json`` (another run's
    file dropped in), and ``train.steps`` below the checkpoint's step. Warns once when the torch
    thread count differs from the one the checkpoint was written with; removes the temp files
    that a kill during an atomic write left in the run directory."""
    tensors, meta = checkpoint_meta(run_dir)
    path = os.path.join(run_dir, ckpt.CHECKPOINT_NAME)
    ckpt.check_resumable(tensors, meta, path)
    for text in overrides or []:
        key = text.partition("=")[0].strip()
        if not (key.startswith("train.") and key[len("train.") :] in RESUMABLE):
            allowed = ", ".join(f"train.{k}" for k in RESUMABLE)
            raise ConfigError(f"cannot change {key} when resuming (allowed: {allowed})")
    saved = config_from_dict(meta["config"])
    _check_same_run(run_dir, saved, path)
    cfg = config_from_dict(apply_overrides(meta["config"], overrides or []))
    if cfg.train.steps < meta["step"]:
        raise ConfigError(
            f"{run_dir} is already at step {meta['step']}; train.steps={cfg.train.steps} would train nothing "
            f"(give train.steps > {meta['step']})"
        )
    world = distributed.start(cfg.train.device)
    try:
        trainer = Trainer(cfg, run_dir, dataset)  # applies train.threads
        _warn_thread_change(meta["rng"], path)
        trainer.load_checkpoint()  # every rank reads the checkpoint, at whatever world size it was written
        distributed.broadcast_object(None, world)  # no rank writes before every rank has read it
        if world.writes:
            remove_stale_temp_files(run_dir)
            write_json_atomic(os.path.join(run_dir, CONFIG_NAME), to_dict(cfg))
        return _run(trainer)
    finally:
        distributed.stop()


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _check_same_run(run_dir: str, saved: ExperimentConfig, path: str) -> None:
    """Refuse a checkpoint whose config is not the run's ``config.json`` (bookkeeping keys aside)."""
    if not os.path.isfile(os.path.join(run_dir, CONFIG_NAME)):
        return  # a bare trainer directory: nothing of another run to overwrite
    run = _flat(to_dict(config_from_dict(read_config(run_dir))))
    ours = _flat(to_dict(saved))
    bookkeeping = {f"train.{k}" for k in RESUMABLE}
    differs = sorted(k for k in run.keys() | ours.keys() if k not in bookkeeping and run.get(k) != ours.get(k))
    if differs:
        shown = ", ".join(f"{k}={ours.get(k)!r} (run: {run.get(k)!r})" for k in differs[:3])
        more = f" and {len(differs) - 3} more" if len(differs) > 3 else ""
        raise CheckpointError(
            f"{path} does not belong to this run: its config differs from {os.path.join(run_dir, CONFIG_NAME)} "
            f"in {shown}{more}; refusing to resume"
        )


def _warn_thread_change(rng_state: dict[str, Any], path: str) -> None:
    saved, now = rng_state.get("torch_threads"), torch.get_num_threads()
    if saved is not None and saved != now:
        warnings.warn(
            f"{path} was written with {saved} torch threads and this process uses {now}: CPU kernels reduce "
            f"in another order, so the run will not match an uninterrupted one bit for bit "
            f"(resume with OMP_NUM_THREADS={saved} for that)",
            stacklevel=3,
        )


# the temp-file names of gankit.atomic: ".<target name>.<12 hex digits>.tmp"
STALE_TEMP = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")


def remove_stale_temp_files(run_dir: str) -> int:
    """Delete the atomic-write temp files under ``run_dir`` (left by a process killed mid-write;
    the run is resumed by one process, so none is in use). Returns how many were removed."""
    removed = 0
    for root, _, files in os.walk(run_dir):
        for name in files:
            if STALE_TEMP.fullmatch(name):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(root, name))
                    removed += 1
    return removed



