"""FID: parity with pytorch-fid's algorithm (reimplemented here), properties, errors."""

import warnings

import numpy as np
import pytest
import scipy.linalg
import torch
from numpy.testing import assert_allclose

from gankit.errors import MetricError, ShapeError
from gankit.metrics import feature_statistics, frechet_distance, frechet_distance_from_stats


def pytorch_fid_reference(act1: np.ndarray, act2: np.ndarray, eps: float = 1e-6) -> float:
    """pytorch-fid ``calculate_activation_statistics`` + ``calculate_frechet_distance``."""
    mu1, sigma1 = np.mean(act1, axis=0), np.cov(act1, rowvar=False)
    mu2, sigma2 = np.mean(act2, axis=0), np.cov(act2, rowvar=False)
    diff = mu1 - mu2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        covmean = scipy.linalg.sqrtm(sigma1.dot(sigma2))
        if not np.isfinite(covmean).all():
            offset = np.eye(sigma1.shape[0]) * eps
            covmean = scipy.linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("Imaginary component")
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def _features(seed: int, n: int = 400, d: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)
    b = rng.normal(size=(n + 37, d)) @ rng.normal(size=(d, d)) * 0.7 + rng.normal(size=d)
    return a, b


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("method", ["eigh", "sqrtm"])
def test_parity_with_pytorch_fid(seed, method):
    a, b = _features(seed)
    expected = pytorch_fid_reference(a, b)
    assert_allclose(frechet_distance(a, b, method=method), expected, rtol=1e-5)


def test_parity_on_float32_features_and_torch_input():
    a, b = _features(3)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    expected = pytorch_fid_reference(a32.astype(np.float64), b32.astype(np.float64))
    assert_allclose(frechet_distance(torch.from_numpy(a32), torch.from_numpy(b32)), expected, rtol=1e-5)


def test_feature_statistics_match_numpy():
    a, _ = _features(4)
    mu, sigma = feature_statistics(a)
    assert_allclose(mu, np.mean(a, axis=0), rtol=1e-12)
    assert_allclose(sigma, np.cov(a, rowvar=False), rtol=1e-12)


def test_from_stats_equals_from_features():
    a, b = _features(5)
    mu1, s1 = feature_statistics(a)
    mu2, s2 = feature_statistics(b)
    assert_allclose(frechet_distance_from_stats(mu1, s1, mu2, s2), frechet_distance(a, b), rtol=1e-12)


def test_from_stats_closed_form_diagonal_gaussians():
    # Diagonal covariances commute: FID = |mu1 - mu2|^2 + sum (sqrt(a) - sqrt(b))^2.
    var1 = np.array([1.0, 4.0, 0.25, 9.0])
    var2 = np.array([2.0, 1.0, 0.25, 16.0])
    mu1 = np.array([0.0, 1.0, -1.0, 2.0])
    mu2 = np.array([0.5, 1.0, 1.0, 0.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    for method in ("eigh", "sqrtm"):
        got = frechet_distance_from_stats(mu1, np.diag(var1), mu2, np.diag(var2), method=method)
        assert_allclose(got, expected, rtol=1e-12)


def test_zero_on_identical_sets():
    a, _ = _features(6)
    assert_allclose(frechet_distance(a, a), 0.0, atol=1e-8)
    assert_allclose(frechet_distance(a, a.copy(), method="sqrtm"), 0.0, atol=1e-6)


def test_translation_gives_squared_shift_and_is_monotone():
    a, _ = _features(7)
    shifts = [0.0, 0.25, 0.5, 1.0, 2.0]
    values = [frechet_distance(a, a + s) for s in shifts]
    # Same covariance: FID = |shift * 1|^2 = D * shift^2 exactly.
    assert_allclose(values, [a.shape[1] * s**2 for s in shifts], rtol=1e-7, atol=1e-8)
    assert np.all(np.diff(values) > 0)


@pytest.mark.parametrize("method", ["eigh", "sqrtm"])
def test_rank_deficient_nearly_identical_never_negative_or_complex(method):
    rng = np.random.default_rng(8)
    a = rng.normal(size=(10, 64))  # N << D: covariance rank 9
    for scale in (0.0, 1e-12, 1e-8, 1e-6):
        b = a + scale * rng.normal(size=a.shape)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value = frechet_distance(a, b, allow_singular=True, method=method)
        assert isinstance(value, float)
        assert np.isfinite(value)
        assert value >= 0.0
        assert_allclose(value, 0.0, atol=1e-4)


def test_singular_covariance_from_stats_never_negative():
    rng = np.random.default_rng(9)
    basis = rng.normal(size=(3, 20))
    sigma = basis.T @ basis  # rank 3, (20, 20)
    mu = rng.normal(size=20)
    for method in ("eigh", "sqrtm"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value = frechet_distance_from_stats(mu, sigma, mu, sigma + 1e-14 * np.eye(20), method=method)
        assert 0.0 <= value < 1e-5


def test_too_few_samples_is_a_clear_error():
    rng = np.random.default_rng(10)
    a, b = rng.normal(size=(16, 16)), rng.normal(size=(100, 16))
    with pytest.raises(MetricError, match="more samples than feature dimensions"):
        frechet_distance(a, b)
    with pytest.raises(MetricError, match="more samples than feature dimensions"):
        frechet_distance(b, a)
    assert frechet_distance(a, b, allow_singular=True) > 0.0
    with pytest.raises(MetricError, match="at least 2 samples"):
        frechet_distance(a[:1], b, allow_singular=True)
    with pytest.raises(MetricError):
        feature_statistics(a[:1])


def test_shape_errors():
    rng = np.random.default_rng(11)
    with pytest.raises(ShapeError):
        frechet_distance(rng.normal(size=(50,)), rng.normal(size=(50, 1)))
    with pytest.raises(ShapeError):
        frechet_distance(rng.normal(size=(50, 3)), rng.normal(size=(50, 4)))
    with pytest.raises(ShapeError):
        frechet_distance_from_stats(np.zeros(3), np.eye(3), np.zeros(3), np.eye(4))
    with pytest.raises(ShapeError):
        frechet_distance_from_stats(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(MetricError, match="NaN"):
        frechet_distance(np.full((50, 2), np.nan), rng.normal(size=(50, 2)))
    with pytest.raises(MetricError, match="method"):
        frechet_distance(rng.normal(size=(50, 2)), rng.normal(size=(50, 2)), method="svd")
