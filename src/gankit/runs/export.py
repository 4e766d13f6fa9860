"""``gankit export``: a trained run's generator as a shareable model directory.

The directory holds ``generator.safetensors`` (the EMA generator's weights), ``model.json``
(family and ``[model]`` config, latent size and prior, classes, data normalisation, sample
shape, training data and steps, metrics, gankit version, licence), a model card ``README.md``
and, on request, ``generator.onnx``. It is written into a temporary directory beside the
target and renamed when complete, so a failure leaves no half-written model. Before the rename
the export is loaded back (``load_generator``) and must reproduce the run's samples exactly;
the ONNX graph must match torch within ``ONNX_TOLERANCE`` on ``ONNX_CHECK_SAMPLES`` samples.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from importlib import metadata
from typing import Any

import torch
from safetensors.torch import save_file
from torch import nn

from gankit.config import to_dict
from gankit.errors import CheckpointError, ConfigError
from gankit.runs.exported import (
    CARD_NAME,
    FORMAT,
    FORMAT_VERSION,
    MODEL_NAME,
    ONNX_NAME,
    WEIGHTS_NAME,
    ExportedGenerator,
    load_generator,
)
from gankit.runs.loaded import LoadedRun, load_run

METRICS_NAME = "metrics.json"  # a run's recorded metrics (gankit eval), copied into model.json when present
DEFAULT_LICENCE = "MIT"
ONNX_OPSET = 17
ONNX_CHECK_SAMPLES = 64
ONNX_TOLERANCE = 1e-4  # max |onnxruntime - torch| over the check samples
VERIFY_SAMPLES = 8  # samples the loaded export must reproduce exactly before it is kept


def _version() -> str:
    try:
        return metadata.version("gankit")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _metrics(run_dir: str) -> dict[str, Any]:
    path = os.path.join(run_dir, METRICS_NAME)
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc})") from None


def model_description(run: LoadedRun, run_dir: str, module: str, inputs: tuple[str, ...], licence: str) -> dict:
    """The ``model.json`` of ``run``'s generator ``module`` with ``inputs`` (``("z",)`` or ``("z", "c")``)."""
    cfg, data = run.cfg, run.data
    shape = [int(s) for s in data["sample_shape"]]
    image = len(shape) == 3
    norm = ({"range": [-1.0, 1.0], "to_pixels": "uint8(round(clamp((x + 1) / 2, 0, 1) * 255))"} if image
            else {"range": None, "to_pixels": None, "note": "samples are in the training data's own units"})
    modes = {"centres": data.get("mode_centres"), "std": data.get("mode_std")} if data.get("mode_centres") else None
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "gankit_version": _version(),
        "licence": licence,
        "family": cfg.model.arch,
        "model": to_dict(cfg.model),
        "net_spec": {"sample_shape": shape, "num_classes": int(data["num_classes"]),
                     "pack": int(getattr(run.recipe, "pack", 1))},
        "generator": {"module": module, "inputs": list(inputs), "weights": "ema" if module in run.ema else "live"},
        "latent": {"z_dim": int(run.recipe.z_dim), "prior": "normal", "mean": 0.0, "std": 1.0},
        "classes": {"num_classes": int(run.recipe.num_classes),
                    "names": list(data.get("class_names") or []) if run.recipe.num_classes else []},
        "sample_shape": shape,
        "normalisation": norm,
        "modes": modes,
        "training": {"data": data.get("name", cfg.data.name), "recipe": cfg.recipe.name, "steps": run.step,
                     "ema_decay": cfg.train.ema_decay, "seed": cfg.train.seed},
        "metrics": _metrics(run_dir),
    }


def model_card(info: dict[str, Any]) -> str:
    """A human-readable ``README.md`` for an exported model."""
    train, latent, classes = info["training"], info["latent"], info["classes"]
    shape = "x".join(str(s) for s in info["sample_shape"])
    cond = (f"conditional on {classes['num_classes']} classes"
            + (f" ({', '.join(classes['names'])})" if classes["names"] else "") if classes["num_classes"]
            else "unconditional")
    weights = (f"EMA weights (decay {train['ema_decay']})" if info["generator"]["weights"] == "ema"
               else "live weights (the run kept no EMA)")
    call = "G.sample(16, seed=0, class_id=3)" if classes["num_classes"] else "G.sample(16, seed=0)"
    lines = [
        f"# {info['family']} generator trained on {train['data']}",
        "",
        f"A `{train['recipe']}` generator ({info['family']} family), {cond}, trained for {train['steps']} steps on "
        f"`{train['data']}`; {weights}.",
        "",
        f"- Samples: {shape}" + (", in [-1, 1]; pixels = round(clamp((x + 1) / 2, 0, 1) * 255)"
                                 if info["normalisation"]["range"] else ", in the data's own units"),
        f"- Latent: z ~ N(0, I) of size {latent['z_dim']}",
        f"- Inputs: G({', '.join(info['generator']['inputs'])})",
        f"- Written by gankit {info['gankit_version']}; licence: {info['licence']}",
        "",
        "## Use",
        "",
        "```python",
        "import gankit",
        "G = gankit.load_generator('THIS_DIR')",
        f"x = {call}",
        "```",
        "",
        "or `gankit sample THIS_DIR --n 64 --out samples.png`.",
    ]
    if info.get("onnx"):
        lines += ["", f"`{ONNX_NAME}` (opset {info['onnx']['opset']}) takes "
                  + " and ".join(f"`{i}`" for i in info["generator"]["inputs"])
                  + f"; it matches torch within {info['onnx']['max_abs_diff']:.2g} on {ONNX_CHECK_SAMPLES} samples."]
    if info["metrics"]:
        lines += ["", "## Metrics (from the run's metrics.json)", "", "```json",
                  json.dumps(info["metrics"], indent=2, sort_keys=True), "```"]
    lines += ["", "## Details", "", f"Model config (`model.json`): `{json.dumps(info['model'], sort_keys=True)}`", ""]
    return "\n".join(lines)


class _OnnxGenerator(nn.Module):
    """``G(z, c)`` with a fixed signature for the ONNX graph (``c`` only for conditional models)."""

    def __init__(self, model: ExportedGenerator) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.model(z, c)  # (n, *sample_shape)


def write_onnx(model: ExportedGenerator, path: str) -> float:
    """Export ``model`` as ONNX (``torch.onnx.export``, a dynamic batch axis) to ``path`` and
    check it with onnxruntime on ``ONNX_CHECK_SAMPLES`` samples; returns max |ORT - torch|."""
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import onnxruntime
    except ImportError:
        raise ConfigError("--onnx needs onnx and onnxruntime: pip install 'gankit[export]'") from None
    conditional = bool(model.num_classes)
    n = ONNX_CHECK_SAMPLES
    z = model.latent(n, torch.Generator().manual_seed(0))  # (n, z_dim)
    c = model.labels(n)  # (n,) or None
    names = ["z", "c"] if conditional else ["z"]
    args = (z, c) if conditional else (z,)
    axes = {name: {0: "n"} for name in [*names, "x"]}
    wrapper = _OnnxGenerator(model).eval()
    with warnings.catch_warnings():  # the tracer's notes on shape checks it records as constants
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapper, args, path, input_names=names, output_names=["x"], dynamic_axes=axes,
                          opset_version=ONNX_OPSET, dynamo=False)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {"z": z.numpy()} | ({"c": c.numpy()} if conditional else {})
    got = torch.from_numpy(session.run(["x"], feeds)[0])  # (n, *sample_shape)
    with torch.no_grad():
        want = wrapper(*args).float()
    return float((got - want).abs().max())


def export_run(run_dir: str, out: str, onnx: bool = False, licence: str = DEFAULT_LICENCE) -> str:
    """Export ``run_dir``'s generator to the new directory ``out`` (see the module docstring);
    returns ``out``. Refused in one line: an existing ``out``, a recipe without an exportable
    generator (translation recipes, generators of latent codes), an ONNX graph off by more
    than ``ONNX_TOLERANCE``."""
    if os.path.exists(out):
        raise ConfigError(f"--out {out} exists; export writes a new directory")
    run = load_run(run_dir)
    exportable = run.recipe.exportable_generator()
    if exportable is None:
        raise ConfigError(f"recipe {run.cfg.recipe.name!r} has no noise-to-sample generator to export "
                          "(this version exports G(z[, c]) with z ~ N(0, I); not translation or latent-code recipes)")
    module, inputs = exportable
    G = run.nets(use_ema=True)[module]
    info = model_description(run, run_dir, module, inputs, licence)
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(os.path.abspath(out))}.", suffix=".tmp", dir=parent)
    try:
        save_file({k: v.detach().cpu().contiguous() for k, v in G.state_dict().items()},
                  os.path.join(tmp, WEIGHTS_NAME), metadata={"format": FORMAT})
        _write_json(os.path.join(tmp, MODEL_NAME), info)
        loaded = load_generator(tmp)
        ref = run.sample(VERIFY_SAMPLES, 0)  # (VERIFY_SAMPLES, *shape)
        if not torch.equal(loaded.sample(VERIFY_SAMPLES, 0), ref.cpu()):
            raise CheckpointError(f"the exported generator does not reproduce run {run_dir}'s samples; not exported")
        if onnx:
            diff = write_onnx(loaded, os.path.join(tmp, ONNX_NAME))
            if not diff <= ONNX_TOLERANCE:
                raise CheckpointError(f"the ONNX graph differs from torch by {diff:.3g} > {ONNX_TOLERANCE} on "
                                      f"{ONNX_CHECK_SAMPLES} samples; not exported")
            info["onnx"] = {"file": ONNX_NAME, "opset": ONNX_OPSET, "max_abs_diff": diff,
                            "inputs": list(inputs), "output": "x"}
            _write_json(os.path.join(tmp, MODEL_NAME), info)
        with open(os.path.join(tmp, CARD_NAME), "w", encoding="utf-8") as fh:
            fh.write(model_card(info))
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_json(path: str, obj: Any) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2)
        fh.write("\n")
