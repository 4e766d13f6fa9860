"""Progress bars for long work (training steps, feature extraction, rejection sampling,
classifier epochs): tqdm on stderr, shown only when stderr is a terminal, so logs, pipes and
tests stay clean. ``TQDM_DISABLE=1`` turns every bar off."""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm


def progress_bar(total: int | None = None, desc: str = "", unit: str = "it", enabled: bool = True,
                 **kwargs: Any) -> tqdm:
    """A tqdm bar (``kwargs`` go to tqdm: ``iterable``, ``initial``, ``leave``); disabled when
    ``enabled`` is false or stderr is not a terminal (tqdm's ``disable=None``)."""
    kwargs.setdefault("leave", False)
    return tqdm(total=total, desc=desc, unit=unit, disable=None if enabled else True, dynamic_ncols=True, **kwargs)
