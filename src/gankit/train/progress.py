"""Progress bar: step, it/s, ETA (tqdm) and the latest losses, refreshed at log intervals;
shown only when stderr is a terminal (``gankit.progress``)."""

from __future__ import annotations

from gankit.progress import progress_bar


class Progress:
    def __init__(self, total: int, initial: int, enabled: bool, desc: str) -> None:
        self._bar = progress_bar(total, desc, "step", enabled, initial=initial, leave=True)
        self._last = initial

    def update(self, step: int) -> None:
        self._bar.update(step - self._last)
        self._last = step

    def show(self, stats: dict[str, float]) -> None:
        keys = [k for k in stats if k.startswith("Loss/") and k.count("/") == 1]
        self._bar.set_postfix({k[5:]: f"{stats[k]:.3f}" for k in sorted(keys)}, refresh=False)

    def write(self, message: str) -> None:
        self._bar.write(message)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.close()
