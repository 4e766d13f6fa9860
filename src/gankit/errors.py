"""Typed errors. The CLI prints any ``GankitError`` as one line and exits with status 2."""


class GankitError(Exception):
    """Base class for every error caused by user input (config, data, files, arguments)."""


class ConfigError(GankitError):
    """Unknown key, wrong type or invalid value in a configuration or preset."""


class DataError(GankitError):
    """A dataset is missing, corrupt, truncated, fails its checksum, or has the wrong shape."""


class CheckpointError(GankitError):
    """A checkpoint is missing, corrupt, not safetensors, or belongs to a different model."""


class ShapeError(GankitError):
    """A tensor given to a public function has the wrong shape."""


class MetricError(GankitError):
    """A metric cannot be computed from what it was given (e.g. too few samples)."""


class NonFiniteError(GankitError):
    """A loss, gradient or parameter became NaN or Inf in training (``train.on_nonfinite``)."""
