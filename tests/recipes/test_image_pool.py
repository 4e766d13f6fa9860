"""The 50-image history of CycleGAN's discriminators: its sampling rule against a seeded
expectation simulated with a plain list, its rate of swaps, and its state round trip."""

from __future__ import annotations

import pytest
import torch

from gankit.errors import CheckpointError, ConfigError
from gankit.recipes.image_pool import ImagePool


def _images(start: int, n: int) -> torch.Tensor:
    """Images ``(n, 1, 2, 2)`` whose every pixel is their id (start, start + 1, ...)."""
    return torch.arange(start, start + n, dtype=torch.float32)[:, None, None, None].expand(n, 1, 2, 2).clone()


def _ids(images: torch.Tensor) -> list[int]:
    return [int(v) for v in images[:, 0, 0, 0]]


def _expected(size: int, seed: int, batches: list[list[int]]) -> tuple[list[list[int]], list[int]]:
    """The rule simulated on a list: fill first; once full, for each image draw u = rand(1); if
    u < 1/2 draw j = randint(size) and return the stored image j, storing the new one there."""
    gen = torch.Generator().manual_seed(seed)
    pool: list[int] = []
    outs = []
    for batch in batches:
        out = []
        for image in batch:
            if len(pool) < size:
                pool.append(image)
                out.append(image)
            elif float(torch.rand(1, generator=gen)) < 0.5:
                j = int(torch.randint(size, (1,), generator=gen))
                out.append(pool[j])
                pool[j] = image
            else:
                out.append(image)
        outs.append(out)
    return outs, pool


def test_sampling_rule_matches_the_seeded_expectation():
    """Catches returning the new image when a stored one is due (or the reverse), storing before
    reading, a swap probability other than 1/2, and drawing from the global RNG."""
    size, seed = 3, 11
    batches = [list(range(i * 4, i * 4 + 4)) for i in range(6)]
    pool = ImagePool(size, seed)
    torch.manual_seed(123)  # the global stream must not matter
    got = [_ids(pool.query(_images(b[0], len(b)))) for b in batches]
    want, stored = _expected(size, seed, batches)
    assert got == want
    assert _ids(pool.images) == stored and pool.count == size
    assert got[0][:3] == [0, 1, 2]  # the first three fill the pool and come back unchanged
    assert any(i not in b for out, b in zip(got[1:], batches[1:]) for i in out)  # old images do come back


def test_about_half_of_the_queries_of_a_full_pool_return_a_stored_image():
    pool = ImagePool(5, 0)
    pool.query(_images(0, 5))
    returned_old = 0
    n = 2000
    for i in range(n // 10):
        new = _images(1000 + 10 * i, 10)
        returned_old += sum(o != n_ for o, n_ in zip(_ids(pool.query(new)), _ids(new)))
    assert abs(returned_old / n - 0.5) < 0.05


def test_size_zero_is_no_pool_and_output_is_detached():
    x = torch.randn(4, 1, 2, 2, requires_grad=True)
    out = ImagePool(0, 0).query(x)
    torch.testing.assert_close(out, x.detach())
    assert not out.requires_grad
    assert not ImagePool(2, 0).query(x).requires_grad
    with pytest.raises(ConfigError):
        ImagePool(-1, 0)


def test_state_round_trip_continues_identically():
    a, b = ImagePool(4, 5), ImagePool(4, 99)
    a.query(_images(0, 3))  # not yet full: a partial pool must round-trip too
    b.load(a.state(), a.tensors(), torch.device("cpu"))
    for start in (10, 20, 30):
        assert _ids(a.query(_images(start, 3))) == _ids(b.query(_images(start, 3)))
    torch.testing.assert_close(a.images, b.images)
    empty = ImagePool(4, 1)
    fresh = ImagePool(4, 1)
    fresh.load(empty.state(), empty.tensors(), torch.device("cpu"))
    assert fresh.count == 0 and fresh.images is None
    with pytest.raises(CheckpointError):
        fresh.load({"count": 2}, empty.tensors(), torch.device("cpu"))
