"""A training phase: which parameters one optimizer step updates ."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phase:
    """One named update the trainer runs inside every training step.

    The trainer gives each phase its own fresh batch per repeat, enables gradients only
    for ``modules`` (and ``track`` modules), zeroes and steps ``optimizer``; the recipe's
    ``accumulate_gradients(phase.name, batch)`` supplies the loss and calls backward (one
    that calls none leaves the phase idle at that step: its optimizer is not stepped).

    name:      label used by the recipe and in stats ("D", "G", "E", ...)
    modules:   recipe modules whose parameters this phase's optimizer updates
    optimizer: key of the optimizer (usually the same as the name)
    repeats:   consecutive updates per step (n_critic for a WGAN critic)
    interval:  run only on steps divisible by this (lazy regularisation)
    track:     modules that keep requires_grad so their graph can be reused by a later
               phase, without being stepped here
    """

    name: str
    modules: tuple[str, ...]
    optimizer: str
    repeats: int = 1
    interval: int = 1
    track: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.repeats < 1 or self.interval < 1:
            raise ValueError(f"phase {self.name}: repeats and interval must be >= 1")

    def runs_at(self, step: int) -> bool:
        return step % self.interval == 0
