"""Memory-bounded pairwise Euclidean distances shared by the k-NN statistics.

Low-dimensional sets (D <= ``EXACT_DIM_LIMIT``) use ``scipy.spatial.distance.cdist``
(exact differences); higher-dimensional sets use the BLAS expansion
``|x|^2 - 2 x.y + |y|^2`` in float64 after centring both sets on their common mean (which
keeps the cancellation error at the scale of the spread, not of the offset), clamped at 0.
Rows are processed in blocks so that no block exceeds ``BLOCK_BYTES``.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

EXACT_DIM_LIMIT = 16
BLOCK_BYTES = 64 * 2**20


def _block_rows(n_cols: int) -> int:
    return max(1, BLOCK_BYTES // (8 * max(n_cols, 1)))


def squared_distance_blocks(
    x: np.ndarray, y: np.ndarray
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, block)`` with ``block[i, j] = |x[start + i] - y[j]|^2``."""
    from scipy.spatial.distance import cdist  # local: SciPy is slow to import

    rows = _block_rows(y.shape[0])
    if x.shape[1] <= EXACT_DIM_LIMIT:
        for start in range(0, x.shape[0], rows):
            yield start, cdist(x[start : start + rows], y, "sqeuclidean")
        return
    centre = np.concatenate([x, y]).mean(axis=0)
    xc = x - centre  # (N, D)
    yc = y - centre  # (M, D)
    y_sq = np.einsum("ij,ij->i", yc, yc)  # (M,)
    for start in range(0, x.shape[0], rows):
        xb = xc[start : start + rows]  # (B, D)
        x_sq = np.einsum("ij,ij->i", xb, xb)  # (B,)
        block = x_sq[:, None] - 2.0 * (xb @ yc.T) + y_sq[None, :]  # (B, M)
        np.maximum(block, 0.0, out=block)
        yield start, block


def squared_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The full (N, M) matrix of squared Euclidean distances (small sets only)."""
    out = np.empty((x.shape[0], y.shape[0]), dtype=np.float64)
    for start, block in squared_distance_blocks(x, y):
        out[start : start + block.shape[0]] = block
    return out


def kth_neighbour_sqdist(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each row of ``x`` to its k-th nearest *other* row, shape (N,).

    Computed as the (k+1)-th smallest distance including the point itself (distance 0),
    as in the reference implementations; duplicates therefore count as neighbours.
    """
    radii = np.empty(x.shape[0], dtype=np.float64)
    for start, block in squared_distance_blocks(x, x):
        kth = np.partition(block, k, axis=1)[:, k]  # (B,)
        radii[start : start + block.shape[0]] = kth
    return radii


def nearest_neighbour(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``x`` the index of and squared distance to its nearest row of ``y``."""
    index = np.empty(x.shape[0], dtype=np.int64)
    dist2 = np.empty(x.shape[0], dtype=np.float64)
    for start, block in squared_distance_blocks(x, y):
        stop = start + block.shape[0]
        index[start:stop] = np.argmin(block, axis=1)
        dist2[start:stop] = block[np.arange(block.shape[0]), index[start:stop]]
    return index, dist2
