"""Render a matplotlib Figure to PNG headless (Agg canvas, no pyplot), atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from gankit.atomic import save_atomically

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def save_figure(fig: "Figure", path: str | os.PathLike[str], dpi: int = 100) -> Path:
    """Render a matplotlib ``Figure`` to PNG with the Agg canvas (no pyplot, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)  # attaches an Agg canvas to the figure
    return save_atomically(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi))
