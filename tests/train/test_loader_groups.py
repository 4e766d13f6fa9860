"""EpochLoader over groups and Batch's named fields: per-group orders that are pure functions
of (seed, group, epoch), old checkpoint states, exact resume, lazy fields."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch

from gankit.data.base import Dataset, LazyField
from gankit.errors import CheckpointError, ConfigError
from gankit.train.loader import Batch, EpochLoader, group_seed_offset

CPU = torch.device("cpu")
STRIDE = 1_000_003


def _perm(n: int, seed: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


def _offset(group: str) -> int:
    return int.from_bytes(hashlib.sha256(group.encode()).digest()[:8], "big") >> 2


def two_groups(n_a: int = 10, n_b: int = 7) -> Dataset:
    """Group a: a_i = i, labels y_a = 100 + i; group b: b_j = -j (sizes differ)."""
    a = torch.arange(n_a, dtype=torch.float32)[:, None]  # (n_a, 1)
    b = -torch.arange(n_b, dtype=torch.float32)[:, None, None].expand(n_b, 2, 2).clone()  # (n_b, 2, 2)
    return Dataset("pairs", groups={"a": {"a": a, "y_a": 100 + torch.arange(n_a)}, "b": {"b": b}})


class Rendered(LazyField):
    """Example i is the vector (i, 2i, 3i) in int32; records each call's indices."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, []

    def __len__(self) -> int:
        return self.n

    @property
    def shape(self) -> tuple[int, ...]:
        return (3,)

    @property
    def dtype(self) -> torch.dtype:
        return torch.int32

    def take(self, idx: torch.Tensor) -> torch.Tensor:
        self.calls.append(idx.clone())
        return (idx[:, None] * torch.tensor([1, 2, 3])).to(torch.int32)


def test_batch_named_fields_and_positional_construction():
    x, y, i = torch.randn(4, 2), torch.arange(4), torch.tensor([3, 1, 0, 2])
    assert list(Batch(x).fields) == ["x"]
    assert Batch(x).y is None and Batch(x).index is None
    b = Batch(x, y, i)
    assert b.x is x and b.y is y and b.index is i and b["y"] is y and list(b) == ["x", "y", "index"]
    assert "y" in b and "a" not in b and b.get("a", 7) == 7
    c = b.replace(y=y + 1, a=x * 2)
    torch.testing.assert_close(c.y, torch.tensor([1, 2, 3, 4]))
    torch.testing.assert_close(c["a"], 2 * x)
    assert b.y is y and "a" not in b  # the original is unchanged
    assert "y" not in b.replace(y=None)
    only_a = Batch(fields={"a": x})
    with pytest.raises(KeyError, match="batch has no field 'x' \\(fields: a\\)"):
        _ = only_a.x
    with pytest.raises(TypeError, match="twice"):
        Batch(x, fields={"x": x})


def test_one_group_keeps_the_old_permutation():
    ds = Dataset("t", torch.arange(10.0)[:, None], torch.arange(10))
    loader = EpochLoader(ds, batch_size=3, seed=5, device=CPU)
    got = torch.cat([loader.next().index for _ in range(6)])
    want = torch.cat([_perm(10, 5 * STRIDE + 0)[:9], _perm(10, 5 * STRIDE + 1)[:9]])
    torch.testing.assert_close(got, want)
    assert loader.state_dict() == {"seed": 5, "groups": {"main": {"epoch": 1, "position": 3}}}


def test_each_group_has_its_own_order_from_seed_group_and_epoch():
    ds = two_groups()
    loader = EpochLoader(ds, batch_size=3, seed=2, device=CPU)
    batches = [loader.next() for _ in range(6)]
    # a: 3 batches per epoch, the primary group's formula; b: 2 per epoch, offset by its name
    want_a = torch.cat([_perm(10, 2 * STRIDE)[:9], _perm(10, 2 * STRIDE + 1)[:9]])
    want_b = torch.cat([_perm(7, (2 * STRIDE + e + _offset("b")) % 2**63)[:6] for e in range(3)])
    torch.testing.assert_close(torch.cat([b.index for b in batches]), want_a)
    torch.testing.assert_close(torch.cat([b["index_b"] for b in batches]), want_b)
    assert group_seed_offset("b") == _offset("b") == 0x3E23E8160039594A >> 2  # stable across processes
    for batch in batches:  # every field is taken at its own group's positions
        assert list(batch) == ["a", "y_a", "index", "b", "index_b"]
        torch.testing.assert_close(batch["a"][:, 0], batch.index.float())
        torch.testing.assert_close(batch["y_a"], 100 + batch.index)
        torch.testing.assert_close(batch["b"][:, 1, 1], -batch["index_b"].float())
    assert loader.state_dict()["groups"] == {"a": {"epoch": 1, "position": 3}, "b": {"epoch": 2, "position": 2}}
    # a second loader replays the same batches
    again = EpochLoader(ds, batch_size=3, seed=2, device=CPU)
    for batch in batches:
        nxt = again.next()
        torch.testing.assert_close(nxt["index_b"], batch["index_b"])
        torch.testing.assert_close(nxt.index, batch.index)


def test_same_size_groups_are_shuffled_differently():
    ds = Dataset("s", groups={"p": {"p": torch.zeros(50)}, "q": {"q": torch.zeros(50)}})
    batch = EpochLoader(ds, batch_size=50, seed=0, device=CPU).next()
    assert not torch.equal(batch.index, batch["index_q"])


def test_exact_resume_mid_epoch_with_two_groups():
    ds = two_groups(11, 5)
    full = EpochLoader(ds, batch_size=2, seed=9, device=CPU)
    first = [full.next() for _ in range(7)]  # a: mid epoch 1 (5 per epoch); b: mid epoch 3 (2 per epoch)
    state = json.loads(json.dumps(full.state_dict()))
    assert state["groups"] == {"a": {"epoch": 1, "position": 2}, "b": {"epoch": 3, "position": 1}}
    resumed = EpochLoader(ds, batch_size=2, seed=0, device=CPU)
    resumed.load_state_dict(state)
    for _ in range(9):
        want, got = full.next(), resumed.next()
        assert list(got) == list(want)
        for name in want:
            torch.testing.assert_close(got[name], want[name], rtol=0, atol=0)
    assert first  # the prefix was drawn by the uninterrupted loader only


def test_old_one_group_state_still_loads():
    ds = Dataset("t", torch.arange(10.0)[:, None], torch.arange(10))
    ref = EpochLoader(ds, batch_size=3, seed=4, device=CPU)
    for _ in range(5):  # epoch 1, position 2
        ref.next()
    old = EpochLoader(ds, batch_size=3, seed=0, device=CPU)
    old.load_state_dict({"epoch": 1, "position": 2, "seed": 4})
    assert old.state_dict() == ref.state_dict()
    torch.testing.assert_close(old.next().y, ref.next().y)
    torch.testing.assert_close(old.next().y, _perm(10, 4 * STRIDE + 2)[:3])  # epoch 2 starts


def test_state_of_other_groups_is_refused():
    loader = EpochLoader(two_groups(), batch_size=3, seed=0, device=CPU)
    with pytest.raises(CheckpointError, match=r"loader state has groups \['main'\] but dataset has \['a', 'b'\]"):
        loader.load_state_dict({"seed": 0, "groups": {"main": {"epoch": 0, "position": 0}}})


def test_every_group_needs_a_batch():
    with pytest.raises(ConfigError, match="dataset 'pairs' group 'b' has 7 examples, fewer than train.batch_size=8"):
        EpochLoader(two_groups(10, 7), batch_size=8, seed=0, device=CPU)
    with pytest.raises(ConfigError, match="dataset 't' has 2 examples"):
        EpochLoader(Dataset("t", torch.zeros(2, 1)), batch_size=3, seed=0, device=CPU)


def test_lazy_fields_are_rendered_per_batch():
    lazy = Rendered(8)
    ds = Dataset("lazy", groups={"main": {"v": lazy, "y": torch.arange(8) * 10}})
    loader = EpochLoader(ds, batch_size=4, seed=1, device=CPU)
    assert lazy.calls == []  # nothing rendered up front
    batch = loader.next()
    assert len(lazy.calls) == 1
    torch.testing.assert_close(lazy.calls[0], batch.index)
    want = (batch.index[:, None] * torch.tensor([1, 2, 3])).to(torch.int32)  # (4, 3)
    torch.testing.assert_close(batch["v"], want)
    torch.testing.assert_close(batch.y, batch.index * 10)
    torch.testing.assert_close(batch.index, _perm(8, 1 * STRIDE)[:4])
