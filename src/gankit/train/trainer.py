"""The generic trainer: runs a recipe's phases; owns devices, optimizers, EMA, AMP,
logging, sample grids and checkpoints; knows no GAN maths."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any, Callable

import torch

from gankit.atomic import atomic_write
from gankit.config import ExperimentConfig, to_dict
from gankit.data.base import Dataset, build_dataset
from gankit.errors import CheckpointError, ConfigError, NonFiniteError
from gankit.faults import fault_point
from gankit.nets.sync_bn import convert_batchnorm, local_batch_statistics
from gankit.recipes import RECIPES, DataInfo, Recipe, StepContext
from gankit.train import checkpoint as ckpt
from gankit.train import distributed
from gankit.train.ema import EMA, recompute_batchnorm_stats
from gankit.train.loader import EpochLoader
from gankit.train.nonfinite import NonFiniteGuard, check_finite_state, stop_message
from gankit.train.optim import build_optimizer, lr_factor
from gankit.train.progress import Progress
from gankit.train.seeding import capture_rng, restore_rng, seed_everything
from gankit.train.signals import GracefulStop
from gankit.train.stats import Reporter, repair_stats_file, tensorboard_writer_class
from gankit.train.threads import run_threads

GRID_SEED_OFFSET = 7919  # the fixed latent batch of sample grids has its own stream
BN_STATS_SEED = 104_729  # the latents that re-estimate the EMA nets' BatchNorm statistics


def amp_dtype(device: torch.device) -> torch.dtype:
    """The autocast dtype of ``train.amp``: float16 on CUDA (with a grad scaler), bfloat16 elsewhere."""
    return torch.float16 if device.type == "cuda" else torch.bfloat16


def resolve_device(name: str) -> torch.device:
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"train.device: unknown device {name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"train.device={name} but CUDA is not available on this machine")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"train.device={name} but MPS is not available on this machine")
    return device


class Trainer:
    """Trains ``cfg``'s recipe into ``run_dir``. Construction is deterministic given the
    config, so a resumed trainer is built identically and then overwritten by the
    checkpoint's state."""

    def __init__(self, cfg: ExperimentConfig, run_dir: str, dataset: Dataset | None = None) -> None:
        self.cfg = cfg
        self.run_dir = run_dir
        tc = cfg.train
        self.device = resolve_device(tc.device)
        self.world = distributed.current_world()  # one process unless torchrun started several
        if tc.tensorboard:
            tensorboard_writer_class()  # fail before anything is written
        seed_everything(tc.seed)
        self.dataset = dataset if dataset is not None else build_dataset(cfg.data)
        info = DataInfo(
            self.dataset.sample_shape, self.dataset.num_classes, len(self.dataset), self.dataset,
            fields=self.dataset.field_specs(), meta=self.dataset.meta,
        )  # fmt: skip
        self.recipe: Recipe = RECIPES.get(cfg.recipe.name)(cfg, info)
        distributed.check_data_parallel(cfg, self.recipe, self.world)
        if self.world.parallel and tc.sync_bn:
            for name in list(self.recipe.modules):
                self.recipe.modules[name] = convert_batchnorm(self.recipe.modules[name])
        self.recipe.modules.to(self.device).train()
        self.threads = run_threads(tc.threads, self.recipe.modules, tc.batch_size, self.dataset.sample_shape)
        self.phases = self.recipe.phases()
        self.optimizers = {
            name: build_optimizer(
                (p for m in spec.modules for p in self.recipe.modules[m].parameters()), spec.lr, cfg.optim
            )
            for name, spec in self.recipe.optimizers().items()
        }
        self.base_lrs = {name: spec.lr for name, spec in self.recipe.optimizers().items()}
        self.ema = {
            name: EMA(self.recipe.modules[name], decay, tc.ema_start)
            for name, decay in self.recipe.ema_decays().items()
        }
        self.loader = EpochLoader(self.dataset, tc.batch_size, tc.seed, self.device,
                                  (self.world.rank, self.world.size))
        self.step = 0
        self.amp_dtype = amp_dtype(self.device)
        self.scaler = torch.amp.GradScaler("cuda") if tc.amp and self.device.type == "cuda" else None
        self.guard = NonFiniteGuard(tc.on_nonfinite, tc.max_rollbacks, check_grads=self.scaler is None)
        self.nonfinite: str | None = None  # what the last step found non-finite (stop/rollback)
        grid_gen = torch.Generator().manual_seed(tc.seed + GRID_SEED_OFFSET)
        self.grid_z = self.recipe.latent(tc.n_grid, grid_gen, self.device)  # (n_grid, z_dim)
        k = self.recipe.num_classes
        self.grid_c = torch.arange(tc.n_grid, device=self.device) % k if k else None
        self.reporter: Reporter | None = None
        self._grad_owner: frozenset[str] | None = None
        self._backward_calls = 0  # counts ctx.backward; a phase update without one leaves its optimizer idle

    # ------------------------------------------------------------------ one step

    def _set_trainable(self, names: frozenset[str]) -> None:
        if names == self._grad_owner:
            return
        for name, module in self.recipe.modules.items():
            module.requires_grad_(name in names)
        self._grad_owner = names

    def _backward(self, loss: torch.Tensor) -> None:
        self.guard.on_loss(loss)
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
        self._backward_calls += 1

    def train_step(self) -> None:
        """One step: every phase due at this step, each ``repeats`` times, then EMA."""
        report = self.reporter.report if self.reporter is not None else (lambda *_: None)
        ctx = StepContext(self.step, report, self._backward)
        autocast = (
            torch.autocast(self.device.type, dtype=self.amp_dtype)
            if self.cfg.train.amp
            else contextlib.nullcontext()
        )
        factor = lr_factor(self.step, self.cfg.train.steps, self.cfg.optim)
        for name, opt in self.optimizers.items():
            for group in opt.param_groups:
                group["lr"] = self.base_lrs[name] * factor * self.guard.lr_scale
        for phase in self.phases:
            if not phase.runs_at(self.step):
                continue
            self._set_trainable(frozenset(phase.modules + phase.track))
            opt = self.optimizers[phase.optimizer]
            for _ in range(phase.repeats):
                batch = self.loader.next()
                opt.zero_grad(set_to_none=True)
                calls = self._backward_calls
                self.guard.begin_update()
                with autocast:
                    self.recipe.accumulate_gradients(phase.name, batch, ctx)
                if self._backward_calls == calls:  # the recipe left this phase idle at this step
                    continue
                if self.world.parallel:  # each rank's gradient of its share -> the global batch's
                    distributed.average_gradients((p for g in opt.param_groups for p in g["params"]), self.world)
                finite = self.guard.end_update(phase.name, (p for g in opt.param_groups for p in g["params"]))
                if self.guard.policy == "skip":
                    ctx.report("NonFinite/skipped", 0.0 if finite else 1.0)  # fraction of updates dropped
                if not finite:  # train.on_nonfinite=skip: this update is dropped
                    continue
                if self.scaler is not None:
                    self.scaler.step(opt)
                    self.scaler.update()
                else:
                    opt.step()
                self.recipe.after_step(phase.name)
        for ema in self.ema.values():
            ema.update(self.step)
        self.step += 1
        self.nonfinite = self.guard.end_step()

    # ------------------------------------------------------------------ sampling

    def sampling_nets(self, use_ema: bool = True) -> dict[str, torch.nn.Module]:
        nets = dict(self.recipe.modules.items())
        if use_ema:
            self.refresh_ema_stats()
            nets.update({name: ema.module for name, ema in self.ema.items()})
        return nets

    def refresh_ema_stats(self) -> None:
        """Give the EMA nets BatchNorm statistics of their own averaged weights (they hold copies
        of the live nets' otherwise): ``train.ema_bn_batches`` passes of the recipe's generator
        over fixed latents (and uniform labels), the other nets in eval mode, the RNG untouched."""
        stale = [name for name, ema in self.ema.items() if ema.stats_stale]
        batches = self.cfg.train.ema_bn_batches
        if not stale or not batches:
            return
        nets = dict(self.recipe.modules.items()) | {name: ema.module for name, ema in self.ema.items()}
        gen = torch.Generator().manual_seed(BN_STATS_SEED)
        n, k = self.cfg.train.batch_size, self.recipe.num_classes

        def forward() -> None:
            z = self.recipe.latent(n, gen, self.device)
            c = torch.randint(k, (n,), generator=gen).to(self.device) if k else None
            self.recipe.generate(nets, z, c)

        others = [(m, m.training) for name, m in nets.items() if name not in stale]
        try:
            for m, _ in others:
                m.eval()
            # every rank re-estimates from the same whole batches: identical statistics, no collective
            with torch.random.fork_rng(devices=[]), local_batch_statistics():
                recompute_batchnorm_stats([nets[name] for name in stale], forward, batches)
        finally:
            for m, training in others:
                m.train(training)
        for name in stale:
            self.ema[name].stats_stale = False

    def generate(self, z: torch.Tensor, c: torch.Tensor | None = None, use_ema: bool = True) -> torch.Tensor:
        return self.recipe.sample(self.sampling_nets(use_ema), z, c)

    # ------------------------------------------------------------------ checkpoints

    @property
    def checkpoint_path(self) -> str:
        return os.path.join(self.run_dir, ckpt.CHECKPOINT_NAME)

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = ckpt.module_tensors("modules", self.recipe.modules)
        self.refresh_ema_stats()  # a run loaded for sampling gets the statistics of the averaged weights
        tensors.update(ckpt.module_tensors("ema", {n: e.module for n, e in self.ema.items()}))
        optim_meta = {}
        for name, opt in self.optimizers.items():
            optim_meta[name], opt_tensors = ckpt.optimizer_state(name, opt)
            tensors.update(opt_tensors)
        tensors.update(ckpt.recipe_tensors(self.recipe))
        rng_json, rng_tensors = capture_rng()
        tensors.update(rng_tensors)
        meta = {
            "step": self.step,
            "config": to_dict(self.cfg),
            "optimizers": optim_meta,
            "rng": rng_json,
            "loader": self.loader.state_dict(),
            "recipe_state": self.recipe.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "data": data_summary(self.dataset),
            "torch_version": torch.__version__,
            "nonfinite": self.guard.state_dict(),
        }
        return tensors, meta

    def save_checkpoint(self) -> str:
        """Write the checkpoint (rank 0 only: every rank holds the same state); never one holding NaN/Inf."""
        if self.world.writes:
            tensors, meta = self.state()
            check_finite_state(tensors, f"checkpoint at step {self.step}")
            ckpt.save_checkpoint(self.checkpoint_path, tensors, meta)
        return self.checkpoint_path

    def load_checkpoint(self, path: str | None = None) -> None:
        """Restore the whole training state (sampling a run uses ``runs.load_run`` instead)."""
        path = path or self.checkpoint_path
        tensors, meta = ckpt.load_checkpoint(path)
        saved_recipe = meta.get("config", {}).get("recipe", {}).get("name")
        if saved_recipe != self.cfg.recipe.name:
            raise CheckpointError(
                f"{path} was written by recipe {saved_recipe!r}, not {self.cfg.recipe.name!r}"
            )
        try:
            self._load_state(tensors, meta, path)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError, RuntimeError) as exc:
            # a damaged table of the JSON metadata (a list where a table was, a seed past 64 bits, ...)
            raise CheckpointError(f"{path}: unreadable training state ({type(exc).__name__}: {exc})") from None

    def _load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any], path: str) -> None:
        ckpt.load_module_tensors("modules", self.recipe.modules, tensors, path)
        ckpt.load_module_tensors("ema", {n: e.module for n, e in self.ema.items()}, tensors, path)
        self.step = int(meta["step"])
        for name, opt in self.optimizers.items():
            if name not in meta["optimizers"]:
                raise CheckpointError(f"{path} has no state for optimizer {name}")
            ckpt.load_optimizer_state(name, opt, meta["optimizers"][name], tensors, path)
        self.loader.load_state_dict(meta["loader"])
        ckpt.load_recipe_state(self.recipe, meta, tensors, path)
        if self.scaler is not None and meta.get("scaler"):
            self.scaler.load_state_dict(meta["scaler"])
        restore_rng(meta["rng"], {k: v for k, v in tensors.items() if k.startswith("rng/")})
        self.guard.load_state_dict(meta.get("nonfinite"))

    # ------------------------------------------------------------------ the loop

    def fit(self, on_event: Callable[[str, "Trainer"], None] | None = None) -> bool:
        """Train to ``train.steps``. Returns False if stopped early by SIGINT/SIGTERM
        (after writing a checkpoint), True when all steps are done. ``on_event`` gets
        "log", "sample" and "checkpoint" events (artifact writers hook in there)."""
        tc = self.cfg.train
        writes = self.world.writes  # the other ranks of a several-process run write nothing
        stats_path = tb_dir = None
        if writes:
            os.makedirs(self.run_dir, exist_ok=True)
            tb_dir = os.path.join(self.run_dir, "tensorboard") if tc.tensorboard else None
            stats_path = os.path.join(self.run_dir, "stats.jsonl")
            repair_stats_file(stats_path, self.step)  # drop a killed run's partial line and lines past its checkpoint
        self.reporter = Reporter(stats_path, tb_dir, combine=lambda r: distributed.average_stats(r, self.world))
        emit = (on_event or (lambda *_: None)) if writes else (lambda *_: None)
        completed = True
        try:
            with GracefulStop() as stop, Progress(tc.steps, self.step, tc.progress and writes, self.cfg.name) as bar:
                if tc.on_nonfinite == "rollback" and not os.path.exists(self.checkpoint_path):
                    self.save_checkpoint()  # the state a rollback before the first checkpoint returns to
                while self.step < tc.steps:
                    self.train_step()
                    fault_point("train.step")  # a test can kill the process here
                    if self.nonfinite is not None:  # stop raises; rollback returns to the last checkpoint
                        bar.write(self._roll_back(self.nonfinite, tb_dir))
                        bar.update(self.step)
                        continue
                    bar.update(self.step)
                    if self.step % tc.log_every == 0 or self.step == tc.steps:
                        bar.show(self.reporter.flush(self.step))
                        emit("log", self)
                    if tc.sample_every and self.step % tc.sample_every == 0:
                        emit("sample", self)
                    if distributed.any_rank(stop.requested, self.world):
                        completed = False
                        why = f"signal {stop.signum}" if stop.requested else "a signal to another rank"
                        bar.write(f"stopping at step {self.step} ({why}); checkpoint written")
                        break
                    if tc.checkpoint_every and self.step % tc.checkpoint_every == 0 and self.step < tc.steps:
                        self.save_checkpoint()
                        emit("checkpoint", self)
                self.save_checkpoint()
                emit("checkpoint", self)
        finally:
            self.reporter.close()
            self.reporter = None
        return completed

    def _roll_back(self, what: str, tb_dir: str | None) -> str:
        """Handle a step whose ``what`` was non-finite: raise ``NonFiniteError`` (``stop``, or no
        rollback left), else reload the last checkpoint, halve the learning rates, write that state
        back (so a resume continues from it exactly), trim ``stats.jsonl`` to it; returns a message."""
        step, path = self.step, self.checkpoint_path
        kept = path if os.path.exists(path) else None
        if not (kept and self.guard.can_roll_back()):
            raise NonFiniteError(stop_message(step, what, self.guard.policy, kept, self.guard.rollbacks))
        assert self.reporter is not None
        self.reporter.close()
        self.load_checkpoint()
        self.guard.rolled_back()
        self.save_checkpoint()
        stats_path = os.path.join(self.run_dir, "stats.jsonl")
        repair_stats_file(stats_path, self.step)
        self.reporter = Reporter(stats_path, tb_dir)
        return (f"non-finite {what} at step {step}: rolled back to step {self.step} with the learning rates "
                f"x{self.guard.lr_scale:g} (rollback {self.guard.rollbacks} of {self.guard.max_rollbacks})")


def data_summary(dataset: Dataset) -> dict[str, Any]:
    """What sampling from a run needs to know about its data, without loading the data."""
    return {
        "name": dataset.name,
        "sample_shape": list(dataset.sample_shape),
        "num_classes": dataset.num_classes,
        "class_names": list(dataset.class_names),
        "mode_centres": dataset.mode_centres.tolist() if dataset.mode_centres is not None else None,
        "mode_std": dataset.mode_std,
        "fields": {name: spec.to_json() for name, spec in dataset.field_specs().items()},
        "meta": dataset.meta,
    }


def write_json_atomic(path: str, obj: Any) -> None:
    with atomic_write(path, "w") as fh:
        json.dump(obj, fh, indent=2)
        fh.write("\n")
