"""Run directories: train into one, resume one, load one for sampling.

A run directory holds ``config.json`` (the resolved config, written before training),
``stats.jsonl``, ``checkpoint.safetensors``, ``samples/`` (grids over time), the plots
and a ``README.md`` summary. The CLI is a thin layer over these functions;
``gankit.runs.samples`` turns a run into samples for the metrics.
"""

from gankit.runs.files import CONFIG_NAME, checkpoint_meta, read_config
from gankit.runs.loaded import CALIBRATION_EXAMPLES, LoadedRun, load_run
from gankit.runs.training import RESUMABLE, RunResult, new_run_dir, resume, train

__all__ = [
    "CALIBRATION_EXAMPLES",
    "CONFIG_NAME",
    "RESUMABLE",
    "LoadedRun",
    "RunResult",
    "checkpoint_meta",
    "load_run",
    "new_run_dir",
    "read_config",
    "resume",
    "train",
]
