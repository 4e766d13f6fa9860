"""Training engine: phases, trainer, checkpoints, EMA, stats (import submodules directly)."""
