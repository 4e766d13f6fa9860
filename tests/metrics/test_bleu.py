"""BLEU / self-BLEU of token sequences against NLTK called directly and one BLEU by hand; the
registry's bleu, self_bleu and nll_oracle on a trained sequence run."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gankit.config import DataConfig
from gankit.data.oracle import OracleLSTM, nll_oracle
from gankit.errors import MetricError
from gankit.metrics.statistics.bleu import bleu, self_bleu, token_rows
from gankit.presets import load_preset
from gankit.runs import load_run, train
from gankit.runs.samples import evaluate, run_reference_config

nltk_bleu = pytest.importorskip("nltk.translate.bleu_score", reason="BLEU needs nltk (the sequences extra)")

FAKE = np.array([[3, 4, 5, 6, 0, 0], [3, 4, 4, 5, 6, 7], [7, 6, 5, 0, 9, 9]])
REAL = np.array([[3, 4, 5, 6, 7, 0], [4, 5, 6, 7, 3, 4], [6, 5, 4, 3, 0, 0]])


def test_rows_end_at_the_first_pad():
    assert token_rows(FAKE) == [[3, 4, 5, 6], [3, 4, 4, 5, 6, 7], [7, 6, 5]]


def test_bleu_is_nltk_sentence_bleu_against_all_references_averaged():
    hyps, refs = token_rows(FAKE), token_rows(REAL)
    smooth = nltk_bleu.SmoothingFunction().method1
    for order, value in zip((2, 3, 4), (lambda r: (r.bleu2, r.bleu3, r.bleu4))(bleu(FAKE, REAL))):
        expected = np.mean([nltk_bleu.sentence_bleu(refs, h, (1 / order,) * order, smoothing_function=smooth)
                            for h in hyps])
        assert value == pytest.approx(expected, rel=1e-12)


def test_bleu2_by_hand():
    # hypothesis 3 4 5 6 vs references {3 4 5 6 7, 6 5 4 3}: unigrams 4/4 match, bigrams (34 45 56) 3/3;
    # closest reference length 4 (|4-4| = 0 < |5-4|): no brevity penalty -> BLEU-2 = sqrt(1 · 1) = 1
    assert bleu([[3, 4, 5, 6, 0]], [[3, 4, 5, 6, 7], [6, 5, 4, 3, 0]]).bleu2 == pytest.approx(1.0)
    # hypothesis 3 4 9 vs reference 3 4 5 6: unigrams 2/3, bigrams (34 49) 1/2, BP = exp(1 - 4/3)
    expected = math.exp(1 - 4 / 3) * math.sqrt(2 / 3 * 1 / 2)
    assert bleu([[3, 4, 9, 0]], [[3, 4, 5, 6]]).bleu2 == pytest.approx(expected, rel=1e-12)


def test_self_bleu_scores_each_sample_against_the_others():
    hyps = token_rows(FAKE)
    smooth = nltk_bleu.SmoothingFunction().method1
    expected = np.mean([nltk_bleu.sentence_bleu(hyps[:i] + hyps[i + 1:], h, (1 / 3,) * 3, smoothing_function=smooth)
                        for i, h in enumerate(hyps)])
    assert self_bleu(FAKE).bleu3 == pytest.approx(expected, rel=1e-12)
    assert self_bleu(np.array([[3, 4, 5, 6]] * 3)).bleu4 == pytest.approx(1.0)  # identical samples
    with pytest.raises(ValueError, match="at least 2"):
        self_bleu(FAKE[:1])


def test_registry_bleu_and_self_bleu_on_a_token_run(tmp_path):
    cfg = load_preset("oracle-mle", ["data.name=sums", "data.n_samples=64", "model.embedding=4", "model.hidden=4",
                                     "train.steps=2", "train.batch_size=8", "train.progress=false",
                                     "train.sample_every=0", "train.checkpoint_every=0", f"train.out_dir={tmp_path}"])
    run_dir = train(cfg).run_dir
    result = evaluate(fake=run_dir, metrics=["bleu", "self_bleu"], n=30, n_real=40, cache=False)
    samples = load_run(run_dir).sample(30, 0).long().numpy()
    assert result["self_bleu"]["bleu3"] == pytest.approx(self_bleu(samples).bleu3, rel=1e-12)
    assert 0 < result["bleu"]["bleu2"] <= 1 and result["bleu"]["n_references"] == 40  # a fresh draw of sums


def test_registry_nll_oracle_scores_under_the_oracle_of_the_real_data():
    tokens = torch.randint(3, 5000, (20, 6), generator=torch.Generator().manual_seed(0))
    result = evaluate(real="seqgan-oracle", fake=tokens.float(), metrics=["nll_oracle"], cache=False)
    assert result["nll_oracle"] == pytest.approx(nll_oracle(OracleLSTM(0), tokens), rel=1e-12)


def test_a_run_on_the_oracle_keeps_its_oracle_as_reference():
    def reference(name):
        return run_reference_config(SimpleNamespace(cfg=SimpleNamespace(data=DataConfig(name=name, seed=5))))

    assert reference("seqgan-oracle").seed == 5 and reference("seqgan-oracle").split == "test"
    assert reference("sums").seed == 6  # synthetic data: a fresh draw


def test_nll_oracle_refuses_samples_of_other_data():
    with pytest.raises(MetricError, match="nll_oracle scores samples under SeqGAN's oracle"):
        evaluate(real=np.zeros((10, 4)), fake=torch.ones(10, 4), metrics=["nll_oracle"], cache=False)
