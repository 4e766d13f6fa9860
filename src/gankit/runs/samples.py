"""Trained runs as sample sources for the metrics: the one place where runs meet metrics.

``gankit.metrics`` only sees samples (``SampleSet``) and sample sources; this module turns a
run directory or a ``LoadedRun`` into a ``RunSource`` (a ``gankit.metrics.SampleGenerator``)
and offers run-aware ``evaluate`` / ``load_samples`` that accept a run wherever a source goes.

* ``n`` samples from the EMA generator, latents drawn with ``seed`` exactly as
  ``load_run(d).sample(n, seed)`` (the generator runs in batches of ``batch_size``; equal up
  to float rounding). A conditional run's labels are the intended classes, balanced
  (``i % num_classes``); an InfoGAN run's ``codes`` are the categorical code of each sample.
* The default real data of a run is its own dataset, ``split`` (default test), every
  example, and for synthetic data a fresh draw (``data.seed + 1``, so the reference is not
  the training set), at the run's resolution.

>>> from gankit.runs.samples import evaluate
>>> r = evaluate(fake="runs/ring", metrics=["mode_coverage", "mmd"], n=2500)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Union

import torch

from gankit.config import DataConfig
from gankit.data.oracle import ORACLE_DATASET
from gankit.errors import ConfigError
from gankit.metrics.evaluate import evaluate as metrics_evaluate
from gankit.metrics.results import EvalResult
from gankit.metrics.sources import DEFAULT_SPLIT, SampleSet
from gankit.metrics.sources import load_samples as metrics_load_samples
from gankit.runs.loaded import LoadedRun, load_run
from gankit.runs.translation import translation_reference, translation_samples
from gankit.sharding import gather_shares, share_of

SAMPLE_BATCH = 1000  # generator batch when sampling a run (memory bound, not a result knob)
RUN_FILES = ("config.json", "checkpoint.safetensors")

RunLike = Union[str, "os.PathLike[str]", LoadedRun]


def is_run_dir(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a run directory (``config.json`` + ``checkpoint.safetensors``)."""
    p = Path(path)
    return p.is_dir() and all((p / name).is_file() for name in RUN_FILES)


def _latents(loaded: LoadedRun, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The latents ``(n, z_dim)`` of ``LoadedRun.sample(n, seed)`` and, for a run with a
    categorical latent code (InfoGAN), the code ``(n,)`` each one carries (``Recipe.latent_and_code``)."""
    z, codes = loaded.recipe.latent_and_code(n, torch.Generator().manual_seed(seed))
    return z.to(loaded.device), codes


def samples_from_run(
    run: RunLike,
    n: int,
    seed: int = 0,
    *,
    batch_size: int = SAMPLE_BATCH,
    use_ema: bool = True,
    device: str = "cpu",
) -> SampleSet:
    """``n`` samples of a run (a directory or a ``LoadedRun``), latents from ``seed``.

    Same latents and labels as ``LoadedRun.sample(n, seed)``; the generator runs in batches
    of ``batch_size``. Conditional runs get balanced intended labels ``i % num_classes``;
    InfoGAN runs (``recipe.categorical > 0``) the categorical code of each sample as ``codes``.
    """
    return RunSource(run, device=device, batch_size=batch_size, use_ema=use_ema).draw(n, seed)


def run_reference_config(run: LoadedRun, split: str | None = None, data_dir: str | None = None) -> DataConfig:
    """The ``DataConfig`` of a run's default real data: its own dataset, ``split`` (default
    test), every example (``limit`` 0), and for synthetic data a fresh draw (``seed + 1``,
    so the reference is not the training set; SeqGAN's oracle keeps its seed, which picks the
    oracle itself: its test split is held out). Same resolution as the run."""
    cfg = run.cfg.data
    return dataclasses.replace(
        cfg,
        split=split or DEFAULT_SPLIT,
        limit=0,
        seed=cfg.seed if cfg.name == ORACLE_DATASET else cfg.seed + 1,
        path=data_dir if data_dir is not None else cfg.path,
    )


class RunSource:
    """A run as a ``gankit.metrics.SampleGenerator`` (``draw``, ``reference``, ``resolution``).

    A run directory is loaded on first use, so ``evaluate`` checks its arguments before
    loading anything; a ``LoadedRun`` is used as is.
    """

    def __init__(
        self, run: RunLike, *, device: str = "cpu", batch_size: int = SAMPLE_BATCH, use_ema: bool = True
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if isinstance(run, LoadedRun):
            self.run_dir: str | None = None
            self._loaded: LoadedRun | None = run
            self.name = f"run <{run.cfg.name}>"
        else:
            self.run_dir = os.path.abspath(os.fspath(run))
            self._loaded = None
            self.name = f"run {self.run_dir}"
        self.device = device
        self.batch_size = batch_size
        self.use_ema = use_ema

    def loaded(self) -> LoadedRun:
        """The run's networks and config (loaded on first use)."""
        if self._loaded is None:
            self._loaded = load_run(self.run_dir, self.device)  # type: ignore[arg-type]
        return self._loaded

    @property
    def resolution(self) -> int:
        """The run's data resolution (a dataset named as real data is built at it)."""
        return int(self.loaded().cfg.data.resolution)

    def draw(self, n: int, seed: int) -> SampleSet:
        """``n`` samples, latents from ``seed`` (see the module docstring)."""
        if n is None or isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"sampling a run needs n (a positive number of samples to generate), got {n!r}")
        loaded = self.loaded()
        if loaded.recipe.translation_directions:  # translated test inputs with their targets and labels
            return translation_samples(loaded, n, seed, use_ema=self.use_ema, name=self.name)
        z, codes = _latents(loaded, n, seed)  # (n, z_dim), (n,) or None
        c = loaded.labels(n)  # (n,) or None
        nets = loaded.nets(self.use_ema)
        step = self.batch_size
        share = share_of(n)  # under several processes each generates its rows of the same latents
        chunks = []
        for i in range(share.start, share.stop, step):
            j = min(i + step, share.stop)
            chunks.append(loaded.recipe.sample(nets, z[i:j], None if c is None else c[i:j]).cpu())
        x = gather_shares(torch.cat(chunks))  # (n, *sample_shape)
        centres = loaded.data.get("mode_centres")
        identity = {
            "kind": "run",
            "path": self.name.removeprefix("run "),
            "step": int(loaded.step),
            "ema": bool(self.use_ema and loaded.ema),
            "seed": int(seed),
            "n": n,
        }
        return SampleSet(
            x=x.float(),
            name=self.name,
            kind="run",
            identity=identity,
            labels=None if c is None else c.cpu().long(),
            labels_are_intended=c is not None,
            codes=codes,
            dataset=loaded.cfg.data.name,
            num_classes=int(loaded.recipe.num_classes or 0),
            mode_centres=None if centres is None else torch.as_tensor(centres, dtype=torch.float32),
            mode_std=loaded.data.get("mode_std"),
        )

    def reference(self, split: str | None, data_dir: str | None) -> DataConfig | SampleSet:
        """The run's default real data (``run_reference_config``; a translation run's target domain)."""
        if self.loaded().recipe.translation_directions:
            return translation_reference(self.loaded(), split, data_dir)
        return run_reference_config(self.loaded(), split, data_dir)


def as_source(source: Any, *, device: str = "cpu", batch_size: int = SAMPLE_BATCH) -> Any:
    """A ``RunSource`` for a ``LoadedRun`` or run directory; any other source unchanged."""
    if isinstance(source, LoadedRun):
        return RunSource(source, device=device, batch_size=batch_size)
    if isinstance(source, (str, os.PathLike)) and is_run_dir(source):
        return RunSource(source, device=device, batch_size=batch_size)
    return source


def load_samples(source: Any, *, n: int | None = None, seed: int = 0, device: str = "cpu",
                 batch_size: int = SAMPLE_BATCH, **kwargs: Any) -> SampleSet:
    """``gankit.metrics.load_samples`` that also takes a run directory or ``LoadedRun``."""
    return metrics_load_samples(as_source(source, device=device, batch_size=batch_size), n=n, seed=seed, **kwargs)


def evaluate(real: Any = None, fake: Any = None, metrics: Any = ("fid",), *, device: str = "cpu",
             **kwargs: Any) -> EvalResult:
    """``gankit.metrics.evaluate`` where ``fake`` (and ``real``) may also be a run directory or a
    ``LoadedRun``: sampled with ``seed``, protocol sizes per metric, the run's own dataset as
    the default real data (see ``gankit.metrics.evaluate`` for every argument)."""
    return metrics_evaluate(as_source(real, device=device), as_source(fake, device=device), metrics,
                            device=device, **kwargs)
