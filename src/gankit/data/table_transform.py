"""Mode-specific normalisation of a table (Xu et al. 2019, "Modeling Tabular Data using
Conditional GAN", sec. 4.2): the row encoding a tabular GAN reads and writes.

A continuous column ``c`` is fitted with a variational Gaussian mixture (scikit-learn's
``BayesianGaussianMixture``, CTGAN's settings: at most ``max_modes`` = 10 components,
Dirichlet-process weight prior 0.001); modes of weight below ``weight_threshold`` = 0.005 are
dropped (the heaviest always stays). A value ``x`` draws one mode ``k`` with probability
``p(k | x) ∝ w_k N(x; μ_k, σ_k²)`` (the fitted point estimates, renormalised over the kept
modes) and is written as

    α = clip((x − μ_k) / (4 σ_k), −1, 1)  and  the one-hot of k,

so ``x = 4 σ_k α + μ_k`` inverts it exactly whenever ``|x − μ_k| <= 4 σ_k``. A categorical
column is its one-hot. Each continuous column takes ``1 + max_modes`` slots whatever the fit
keeps (the unused mode slots are always 0 and masked out of a generator's softmax), so a
network's width is fixed by the schema and a saved run is rebuilt without the data.

The fitted state is plain JSON (``TableEncoder.to_json``). Values are in the table dataset's
encoding (continuous columns min-max scaled to [−1, 1], ``gankit.data.tables``); ``decode_table``
maps them back to raw values.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from gankit.data.tables import CONTINUOUS
from gankit.errors import DataError

MAX_MODES = 10  # CTGAN: BayesianGaussianMixture(n_components=10)
WEIGHT_THRESHOLD = 0.005  # CTGAN: modes with weight below this are dropped
WEIGHT_PRIOR = 0.001  # CTGAN: weight_concentration_prior of the Dirichlet process
ALPHA_SCALE = 4.0  # α = (x − μ) / (4 σ)


@dataclass(frozen=True)
class ModeNormalizer:
    """The kept modes of one continuous column: weights, means and standard deviations ``(K,)``."""

    weights: tuple[float, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]

    @classmethod
    def fit(cls, x: np.ndarray, seed: int = 0, max_modes: int = MAX_MODES,
            weight_threshold: float = WEIGHT_THRESHOLD) -> ModeNormalizer:
        """Fit the variational mixture to the values ``x`` ``(N,)`` and keep its heavy modes."""
        from sklearn.mixture import BayesianGaussianMixture  # local: sklearn is slow to import

        x = np.asarray(x, dtype=np.float64).reshape(-1, 1)
        gm = BayesianGaussianMixture(
            n_components=min(max_modes, len(x)), weight_concentration_prior_type="dirichlet_process",
            weight_concentration_prior=WEIGHT_PRIOR, max_iter=100, n_init=1, random_state=seed,
        )
        with warnings.catch_warnings():  # a few steps short of convergence is as CTGAN trains
            warnings.simplefilter("ignore")
            gm.fit(x)
        weights = gm.weights_
        keep = weights >= weight_threshold
        keep[int(np.argmax(weights))] = True
        stds = np.sqrt(gm.covariances_.reshape(-1))
        return cls(tuple(map(float, weights[keep])), tuple(map(float, gm.means_.reshape(-1)[keep])),
                   tuple(map(float, stds[keep])))

    @property
    def modes(self) -> int:
        return len(self.means)

    def posterior(self, x: np.ndarray) -> np.ndarray:
        """``p(k | x) ∝ w_k N(x; μ_k, σ_k²)`` over the kept modes, ``(N, K)`` (computed in log space)."""
        w, mu, sd = (np.asarray(v, dtype=np.float64) for v in (self.weights, self.means, self.stds))
        z = (np.asarray(x, dtype=np.float64)[:, None] - mu) / sd  # (N, K)
        log_p = np.log(w) - np.log(sd) - 0.5 * z * z  # (N, K), up to a constant
        log_p -= log_p.max(axis=1, keepdims=True)
        p = np.exp(log_p)
        return p / p.sum(axis=1, keepdims=True)

    def transform(self, x: np.ndarray, modes: np.ndarray) -> np.ndarray:
        """``α = clip((x − μ_k) / (4 σ_k), −1, 1)`` ``(N,)`` for values ``x`` in modes ``k`` (int ``(N,)``)."""
        mu, sd = np.asarray(self.means)[modes], np.asarray(self.stds)[modes]
        return np.clip((np.asarray(x, dtype=np.float64) - mu) / (ALPHA_SCALE * sd), -1.0, 1.0)

    def inverse(self, alpha: np.ndarray, modes: np.ndarray) -> np.ndarray:
        """``x = 4 σ_k α + μ_k`` ``(N,)``."""
        return ALPHA_SCALE * np.asarray(self.stds)[modes] * np.asarray(alpha, dtype=np.float64) + np.asarray(
            self.means)[modes]

    def to_json(self) -> dict[str, list[float]]:
        return {"weights": list(self.weights), "means": list(self.means), "stds": list(self.stds)}

    @classmethod
    def from_json(cls, obj: Mapping[str, Sequence[float]]) -> ModeNormalizer:
        return cls(tuple(obj["weights"]), tuple(obj["means"]), tuple(obj["stds"]))


@dataclass(frozen=True)
class Span:
    """Slots ``[start, start + width)`` of the encoded row; ``kind`` is ``"alpha"``, ``"mode"``
    (``valid`` of its ``width`` slots used) or ``"category"``; ``column`` indexes the schema."""

    column: int
    kind: str
    start: int
    width: int
    valid: int


class TableEncoder:
    """Encodes rows of a table dataset (fields ``continuous``, ``categorical`` and the schema
    ``columns``) into the mode-specific normalised vector and back."""

    def __init__(self, columns: Sequence[Mapping[str, Any]], normalizers: Mapping[str, ModeNormalizer] | None = None,
                 max_modes: int = MAX_MODES) -> None:
        self.columns = [dict(c) for c in columns]
        self.max_modes = max_modes
        self.normalizers: dict[str, ModeNormalizer] = dict(normalizers or {})
        self.spans: list[Span] = []
        start = 0
        for j, col in enumerate(self.columns):
            if col["type"] == CONTINUOUS:
                valid = self.normalizers[col["name"]].modes if col["name"] in self.normalizers else max_modes
                self.spans += [Span(j, "alpha", start, 1, 1), Span(j, "mode", start + 1, max_modes, valid)]
                start += 1 + max_modes
            else:
                k = len(col["categories"])
                self.spans.append(Span(j, "category", start, k, k))
                start += k
        self.width = start

    @classmethod
    def fit(cls, columns: Sequence[Mapping[str, Any]], continuous: torch.Tensor, seed: int = 0,
            max_modes: int = MAX_MODES) -> TableEncoder:
        """Fit one ``ModeNormalizer`` per continuous column of ``continuous`` ``(N, Dc)``."""
        x = continuous.double().numpy()
        normalizers = {c["name"]: ModeNormalizer.fit(x[:, c["index"]], seed, max_modes)
                       for c in columns if c["type"] == CONTINUOUS}
        return cls(columns, normalizers, max_modes)

    def mode_mask(self) -> torch.Tensor:
        """Bool ``(width,)``: True on the mode slots a fit does not use (a generator masks them)."""
        mask = torch.zeros(self.width, dtype=torch.bool)
        for s in self.spans:
            if s.kind == "mode":
                mask[s.start + s.valid: s.start + s.width] = True
        return mask

    def encode(self, continuous: torch.Tensor, categorical: torch.Tensor,
               generator: np.random.Generator) -> torch.Tensor:
        """Rows ``(N, width)`` float32; each value's mode drawn from ``p(k | x)`` with ``generator``."""
        n = continuous.shape[0]
        out = np.zeros((n, self.width), dtype=np.float64)
        x_all = continuous.double().numpy()
        ids = categorical.numpy()
        for s in self.spans:
            col = self.columns[s.column]
            if s.kind == "alpha":
                norm = self.normalizers[col["name"]]
                x = x_all[:, col["index"]]
                p = norm.posterior(x)  # (N, K)
                u = generator.random(n)[:, None]  # inverse-CDF draw of one mode per row
                modes = np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), norm.modes - 1)  # (N,)
                out[:, s.start] = norm.transform(x, modes)
                out[np.arange(n), s.start + 1 + modes] = 1.0
            elif s.kind == "category":
                out[np.arange(n), s.start + ids[:, col["index"]]] = 1.0
        return torch.from_numpy(out.astype(np.float32))

    def decode(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoded rows ``(N, width)`` -> the dataset's ``continuous`` ``(N, Dc)`` and ``categorical``
        ``(N, Dk)``: ``x = 4 σ_k α + μ_k`` with ``k`` the argmax of the used mode slots, a category
        the argmax of its slots."""
        if rows.ndim != 2 or rows.shape[1] != self.width:
            raise DataError(f"encoded rows must be (N, {self.width}), got {tuple(rows.shape)}")
        r = rows.detach().double().cpu().numpy()
        n_cont = sum(c["type"] == CONTINUOUS for c in self.columns)
        cont = np.zeros((r.shape[0], n_cont), dtype=np.float64)
        cat = np.zeros((r.shape[0], len(self.columns) - n_cont), dtype=np.int64)
        for s in self.spans:
            col = self.columns[s.column]
            if s.kind == "mode":
                modes = r[:, s.start: s.start + s.valid].argmax(axis=1)
                cont[:, col["index"]] = self.normalizers[col["name"]].inverse(r[:, s.start - 1], modes)
            elif s.kind == "category":
                cat[:, col["index"]] = r[:, s.start: s.start + s.width].argmax(axis=1)
        return torch.from_numpy(cont), torch.from_numpy(cat)

    def to_json(self) -> dict[str, Any]:
        return {"max_modes": self.max_modes, "columns": self.columns,
                "normalizers": {name: n.to_json() for name, n in self.normalizers.items()}}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> TableEncoder:
        normalizers = {name: ModeNormalizer.from_json(v) for name, v in obj["normalizers"].items()}
        if any(not math.isfinite(s) or s <= 0 for n in normalizers.values() for s in n.stds):
            raise DataError("table encoder: every mode needs a finite std > 0")
        return cls(obj["columns"], normalizers, int(obj["max_modes"]))
