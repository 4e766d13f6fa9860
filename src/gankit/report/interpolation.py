"""The interpolation strip of a report: ``LoadedRun.interpolate`` between random latent
pairs (the same as ``gankit interpolate RUN --rows 4 --steps 8 --seed 0``), as PNG bytes."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from gankit.runs import load_run
from gankit.runs.artifacts import upscale_for
from gankit.train.checkpoint import CHECKPOINT_NAME
from gankit.viz.grid import grid_to_pil, make_grid

ROWS, STEPS, SEED = 4, 8, 0


def interpolation_png(run_dir: Path, rows: int = ROWS, steps: int = STEPS, seed: int = SEED) -> bytes | None:
    """``rows`` paths of ``steps`` samples from the run's (EMA) generator, one path per grid
    row; None where a strip means nothing: no checkpoint, samples that are not images, or a
    translation run (its outputs follow inputs, not latents)."""
    if not (run_dir / CHECKPOINT_NAME).is_file():
        return None
    run = load_run(str(run_dir))
    if not run.is_image or run.recipe.translation_directions:
        return None
    samples = run.interpolate(rows, steps, seed).cpu()  # (rows·steps, C, H, W)
    picture = grid_to_pil(make_grid(samples, nrow=steps))
    k = upscale_for(samples.shape[-1])
    picture = picture.resize((picture.width * k, picture.height * k), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    picture.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
