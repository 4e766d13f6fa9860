"""What a run leaves besides its checkpoint: sample grids over time, plots built from
``stats.jsonl``, 2-D scatter/density plots for toys, histograms and a README summary."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from typing import TYPE_CHECKING

import numpy as np
import torch

from gankit.atomic import atomic_write
from gankit.data.base import example_shape, field_len, take
from gankit.errors import ConfigError, NonFiniteError
from gankit.viz.curves import plot_curves
from gankit.viz.grid import save_image_grid
from gankit.viz.histograms import plot_sample_histograms
from gankit.viz.toy2d import plot_density_2d, plot_samples_2d

if TYPE_CHECKING:
    from gankit.runs.loaded import LoadedRun
    from gankit.train.trainer import Trainer

N_SCATTER = 2500  # samples per 2-D plot (the PacGAN/VEEGAN evaluation size)
N_HISTOGRAM = 1000  # samples per side in the real-vs-generated histograms
SCATTER_SEED_OFFSET = 104729
TARGET_SIDE = 64  # tiny images are enlarged (nearest) to about this many pixels


def upscale_for(side: int) -> int:
    return max(1, TARGET_SIDE // side)


def _write_image_or_scatter(samples: torch.Tensor, path: str, centres, std, nrow: int | None, title: str) -> None:
    if not bool(torch.isfinite(samples).all()):  # a picture of NaNs would hide the divergence as a black grid
        raise NonFiniteError(f"{path}: the samples hold NaN or Inf values; not written")
    if samples.ndim == 4:
        save_image_grid(samples, path, nrow=nrow, upscale=upscale_for(samples.shape[-1]))
    elif samples.ndim == 2 and samples.shape[1] == 2:
        plot_samples_2d(samples, path, centres=centres, std=std, title=title)
    else:
        raise ConfigError(f"cannot draw samples of shape {tuple(samples.shape[1:])} as PNG; use an .npz output")


class RunArtifacts:
    """Hooks into ``Trainer.fit`` events and writes the run's visual record."""

    def __init__(self, trainer: "Trainer") -> None:
        self.trainer = trainer
        self.run_dir = trainer.run_dir
        ds = trainer.dataset
        self.real = ds.field(trainer.recipe.target_field)  # what G imitates; checked by Recipe.check_data
        shape = tuple(example_shape(self.real))
        self.is_2d = shape == (2,)
        self.drawable = self.is_2d or len(shape) == 3  # a picture per sample: an image or a 2-D point
        self.centres = ds.mode_centres
        self.std = ds.mode_std
        self.started = time.perf_counter()
        self.start_step = trainer.step
        if self.is_2d:
            gen = torch.Generator().manual_seed(trainer.cfg.train.seed + SCATTER_SEED_OFFSET)
            self.scatter_z = trainer.recipe.latent(N_SCATTER, gen, trainer.device)
            k = trainer.recipe.num_classes
            self.scatter_c = torch.arange(N_SCATTER, device=trainer.device) % k if k else None

    def _samples(self) -> torch.Tensor:
        t = self.trainer
        if self.is_2d:
            return t.generate(self.scatter_z, self.scatter_c).cpu()
        return t.generate(t.grid_z, t.grid_c).cpu()

    def _picture(self) -> tuple[torch.Tensor, int | None]:
        """A sample grid's images and row length (None: the grid's default): the recipe's
        ``sample_grid`` of the fixed latents (translation: input | output | target rows), or the
        2-D scatter's samples."""
        t = self.trainer
        if self.is_2d:
            return self._samples(), None
        grid, nrow = t.recipe.sample_grid(t.sampling_nets(), t.grid_z, t.grid_c)
        return grid.cpu(), nrow

    def _generate_batched(self, n: int, gen: torch.Generator, batch: int = 500) -> torch.Tensor:
        t = self.trainer
        k = t.recipe.num_classes
        out = []
        for start in range(0, n, batch):
            m = min(batch, n - start)
            c = (torch.arange(start, start + m, device=t.device) % k) if k else None
            out.append(t.generate(t.recipe.latent(m, gen, t.device), c).cpu())
        return torch.cat(out)

    def on_event(self, event: str, trainer: "Trainer") -> None:
        if event == "sample" and self.drawable:
            path = os.path.join(self.run_dir, "samples", f"step_{trainer.step:06d}.png")
            picture, nrow = self._picture()
            _write_image_or_scatter(picture, path, self.centres, self.std, nrow, f"step {trainer.step}")

    def finish(self, completed: bool) -> None:
        """The run's closing files. A finished run gets its final samples, plots and README; a run
        stopped by a signal only its README, so Ctrl-C exits right after the checkpoint (the plots
        are drawn when ``gankit resume`` finishes the run)."""
        self._write_readme(completed, self._draw_final() if completed else [])

    def _draw_final(self) -> list[tuple[str, str]]:
        """Final samples and plots; returns (file, what) rows for the README."""
        t = self.trainer
        samples = self._samples() if self.is_2d else None
        outputs: list[tuple[str, str]] = []
        if self.drawable:
            final = os.path.join(self.run_dir, "samples_final.png")
            picture, nrow = (samples, None) if samples is not None else self._picture()
            _write_image_or_scatter(picture, final, self.centres, self.std, nrow, f"step {t.step}")
            outputs.append(("samples_final.png", "samples from the EMA generator at the last step"))
        stats = os.path.join(self.run_dir, "stats.jsonl")
        if os.path.exists(stats) and os.path.getsize(stats) > 0:
            plot_curves(stats, os.path.join(self.run_dir, "loss_curves.png"))
            outputs.append(("loss_curves.png", "losses over steps, from stats.jsonl"))
        if self.is_2d:
            plot_density_2d(samples, os.path.join(self.run_dir, "density.png"), centres=self.centres, std=self.std)
            outputs.append(("density.png", f"2-D histogram of {N_SCATTER} samples over the true modes"))
        count = field_len(self.real)
        n = min(count, N_HISTOGRAM)
        gen = torch.Generator().manual_seed(t.cfg.train.seed + SCATTER_SEED_OFFSET)
        fake = samples if self.is_2d else self._generate_batched(n, gen)
        real = take(self.real, torch.randperm(count, generator=gen)[:n])
        plot_sample_histograms(real, fake[:n], os.path.join(self.run_dir, "histograms.png"))
        outputs.append(("histograms.png", "histograms of per-sample statistics, real vs generated"))
        return outputs

    def _write_readme(self, completed: bool, outputs: list[tuple[str, str]]) -> None:
        t = self.trainer
        cfg = t.cfg
        latest = {}
        stats = os.path.join(self.run_dir, "stats.jsonl")
        if os.path.exists(stats):
            with open(stats, encoding="utf-8") as fh:
                lines = [ln for ln in fh.read().splitlines() if ln.strip()]
            if lines:
                with contextlib.suppress(ValueError):  # a hand-edited or damaged last line: no stats shown
                    latest = json.loads(lines[-1])
        elapsed = time.perf_counter() - self.started
        ran = t.step - self.start_step
        buf = io.StringIO()
        buf.write(f"# Run `{os.path.basename(os.path.abspath(self.run_dir))}`\n\n")
        buf.write(f"Preset **{cfg.name}**: {cfg.description}\n\n")
        buf.write(f"- status: {'finished' if completed else 'stopped early (resume with `gankit resume`)'}\n")
        buf.write(f"- steps: {t.step} of {cfg.train.steps} (this session: {ran} in {elapsed:.1f} s")
        buf.write(f", {ran / elapsed:.1f} steps/s)\n" if elapsed > 0 and ran else ")\n")
        recipe_keys = {k: v for k, v in vars(cfg.recipe).items() if k != "name"}
        buf.write(f"- recipe: `{cfg.recipe.name}` {json.dumps(recipe_keys)}\n")
        buf.write(f"- data: `{cfg.data.name}`, {len(t.dataset)} examples of shape {tuple(t.dataset.sample_shape)}\n")
        buf.write(f"- networks: `{cfg.model.arch}`, z_dim {cfg.model.z_dim}, seed {cfg.train.seed}, "
                  f"device {cfg.train.device}\n")
        buf.write(f"- torch threads: {t.threads} (train.threads={cfg.train.threads})\n")
        if not completed:
            buf.write("- plots: not drawn at the stop; `gankit resume` draws them when the run finishes\n")
        if isinstance(latest, dict) and latest:
            shown = {k: v for k, v in latest.items() if k.startswith(("Loss/", "D/")) and isinstance(v, (int, float))
                     and not isinstance(v, bool)}
            buf.write("- last logged stats: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(shown.items())) + "\n")
        buf.write("\n| file | what |\n|---|---|\n")
        buf.write("| config.json | the resolved config |\n| stats.jsonl | logged statistics |\n")
        buf.write("| checkpoint.safetensors | everything needed to resume exactly |\n")
        buf.write("| samples/ | sample grids over time (fixed latent batch) |\n")
        for name, what in outputs:
            buf.write(f"| {name} | {what} |\n")
        buf.write(f"\n```\ngankit sample {self.run_dir} --n 64 --seed 1 --out samples.png\n")
        buf.write(f"gankit resume {self.run_dir} train.steps={cfg.train.steps * 2}\n```\n")
        with atomic_write(os.path.join(self.run_dir, "README.md"), "w") as fh:
            fh.write(buf.getvalue())


def save_samples(run: "LoadedRun", samples: torch.Tensor, out: str, nrow: int | None = None, paths: int = 0) -> None:
    """Write samples from ``gankit sample``/``interpolate``: ``.png`` draws them (grid or
    2-D scatter), ``.npz`` stores the raw array (``samples``) for metrics, ``.txt`` writes a
    token-sequence run's samples as text, one per line (``decode_text``: words, note lists)."""
    centres = run.data.get("mode_centres")
    if not bool(torch.isfinite(samples).all()):
        raise NonFiniteError(f"{out}: the samples hold NaN or Inf values; not written")
    if out.endswith(".txt"):
        if not hasattr(run.recipe, "decode_text"):
            raise ConfigError(f"--out {out}: only token-sequence runs write text; use .png or .npz")
        lines = run.recipe.decode_text(samples)
        with atomic_write(out, "w") as fh:
            fh.write("".join(line + "\n" for line in lines))
    elif out.endswith(".npz"):
        arr = samples.cpu().numpy().astype(np.float32)
        with atomic_write(out) as fh:
            np.savez(fh, samples=arr)
    elif out.endswith(".png"):
        title = f"{paths} interpolation paths" if paths else f"{samples.shape[0]} samples"
        _write_image_or_scatter(samples.cpu(), out, centres, run.data.get("mode_std"), nrow, title)
    else:
        raise ConfigError(f"--out must end in .png, .npz or .txt (token sequences), got {out}")


MAX_PAIR_COLUMNS = 16  # reconstruction grids: at most this many examples per row pair
BLANK = 1.0  # value of the padding cells of a short last row pair (the grid's white padding)


def paired_rows(top: torch.Tensor, bottom: torch.Tensor, cols: int) -> torch.Tensor:
    """Images ``(2 · ceil(n / cols) · cols, ...)`` for a grid of ``cols`` columns: each chunk
    of ``cols`` examples is a row of ``top`` (e.g. real images) with the same columns of
    ``bottom`` (their reconstructions) in the row below; a short last chunk is padded with
    blank cells (``BLANK``)."""
    if top.shape != bottom.shape:
        raise ConfigError(f"paired rows need equal shapes, got {tuple(top.shape)} and {tuple(bottom.shape)}")
    n = top.shape[0]
    chunks = -(-n // cols)  # ceil
    pad = chunks * cols - n
    blank = top.new_full((pad, *top.shape[1:]), BLANK)
    a = torch.cat([top, blank]).reshape(chunks, 1, cols, *top.shape[1:])
    b = torch.cat([bottom, blank]).reshape(chunks, 1, cols, *top.shape[1:])
    return torch.cat([a, b], dim=1).reshape(2 * chunks * cols, *top.shape[1:])  # (2·chunks·cols, ...)


def save_reconstructions(run: "LoadedRun", real: torch.Tensor, recon: torch.Tensor, out: str) -> None:
    """``gankit reconstruct``'s output: a ``.png`` grid of images shows each row of real
    examples above its reconstructions (``paired_rows``); otherwise (``.npz``, 2-D points)
    the samples are ``real`` followed by ``recon``."""
    if out.endswith(".png") and real.ndim == 4:
        cols = min(real.shape[0], MAX_PAIR_COLUMNS)
        save_samples(run, paired_rows(real.cpu(), recon.cpu(), cols), out, nrow=cols)
    else:
        save_samples(run, torch.cat([real, recon]), out)
