"""SeqGAN's oracle: NLL_oracle equals a by-hand LSTM loop; samples avoid the special ids; the dataset."""

import math

import pytest
import torch

from gankit.config import DataConfig
from gankit.data.base import build_dataset
from gankit.data.oracle import OracleLSTM, nll_oracle, oracle_split
from gankit.data.tokens import BOS_ID
from gankit.errors import DataError


def _by_hand_nll(oracle: OracleLSTM, seqs: list[list[int]]) -> float:
    """Per-token NLL with the LSTM cell written out (PyTorch gate order i, f, g, o), in float64."""
    E = oracle.embed.weight.double()
    W_ih, W_hh = oracle.cell.weight_ih.double(), oracle.cell.weight_hh.double()
    b = (oracle.cell.bias_ih + oracle.cell.bias_hh).double()
    W_o, b_o = oracle.out.weight.double(), oracle.out.bias.double()
    H = W_hh.shape[1]
    total, count = 0.0, 0
    for seq in seqs:
        h, c, prev = torch.zeros(H, dtype=torch.float64), torch.zeros(H, dtype=torch.float64), BOS_ID
        for tok in seq:
            gates = W_ih @ E[prev] + W_hh @ h + b
            i, f, g, o = gates.split(H)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            logits = W_o @ h + b_o
            allowed = list(range(3, oracle.vocab))  # the specials are masked out
            log_z = math.log(sum(math.exp(float(logits[j])) for j in allowed))
            total -= float(logits[tok]) - log_z
            count += 1
            prev = tok
    return total / count


def test_nll_oracle_is_the_exact_teacher_forced_likelihood():
    oracle = OracleLSTM(seed=3, vocab=9, hidden=4, embedding=3)
    samples = oracle.sample(5, 6, torch.Generator().manual_seed(0))  # (5, 6)
    expected = _by_hand_nll(oracle, samples.tolist())
    torch.testing.assert_close(nll_oracle(oracle, samples), expected, rtol=1e-5, atol=1e-5)


def test_oracle_parameters_follow_the_seed_and_are_standard_normal():
    a, b, c = OracleLSTM(1), OracleLSTM(1), OracleLSTM(2)
    torch.testing.assert_close(a.out.weight, b.out.weight, rtol=0, atol=0)
    assert not torch.equal(a.out.weight, c.out.weight)
    w = torch.cat([p.flatten() for p in a.parameters()])
    assert abs(float(w.mean())) < 0.01 and abs(float(w.std()) - 1) < 0.01


def test_oracle_samples_never_hold_special_ids_and_a_special_id_is_infinitely_unlikely():
    oracle = OracleLSTM(seed=0, vocab=12, hidden=4, embedding=4)
    samples = oracle.sample(400, 5, torch.Generator().manual_seed(1))
    assert samples.min() >= 3 and samples.max() < 12
    bad = samples.clone()
    bad[0, 2] = 2  # <eos>
    assert nll_oracle(oracle, bad) == math.inf
    with pytest.raises(DataError, match="token ids"):
        nll_oracle(oracle, torch.full((1, 5), 12))


def test_dataset_splits_have_their_own_streams():
    ds = build_dataset(DataConfig(name="seqgan-oracle", seq_len=2, limit=64))
    tokens = ds.field("tokens")
    assert tokens.shape == (64, 2) and ds.meta["fixed_length"] and len(ds.meta["vocab"]) == 5000
    assert torch.equal(ds.field("lengths"), torch.full((64,), 2))
    torch.testing.assert_close(tokens, oracle_split(0, "train", 2)[:64], rtol=0, atol=0)
    assert not torch.equal(oracle_split(0, "test", 2)[:64], tokens)
