"""InceptionExtractor: batching, iterables, dtypes, logits, errors (random weights, CPU)."""

import numpy as np
import pytest
import torch

from gankit.errors import ConfigError, MetricError
from gankit.metrics.features import NO_LOGITS_MESSAGE, FIDInceptionV3, InceptionExtractor, preprocess

N = 3


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return FIDInceptionV3(with_fc=True).eval()


@pytest.fixture(scope="module")
def images():
    g = torch.Generator().manual_seed(1)
    return torch.rand(N, 1, 28, 28, generator=g) * 2 - 1  # (N, 1, 28, 28) in [-1, 1]


@pytest.fixture(scope="module")
def reference(net, images):
    with torch.inference_mode():
        out = net(preprocess(images))
    return out.features.double().numpy(), out.logits.double().numpy()


@pytest.fixture(scope="module")
def extracted(net, images):
    ex = InceptionExtractor(net, batch_size=2)  # 3 images -> batches of 2 and 1
    return ex, ex.features_and_logits(images)


def test_features_and_logits_match_the_plain_network(extracted, reference):
    _, (feats, logits) = extracted
    ref_feats, ref_logits = reference
    assert feats.shape == (N, 2048) and feats.dtype == np.float64
    assert logits.shape == (N, 1008) and logits.dtype == np.float64
    assert np.abs(feats - ref_feats).max() <= 1e-5 * max(1.0, np.abs(ref_feats).max())
    assert np.abs(logits - ref_logits).max() <= 1e-5 * max(1.0, np.abs(ref_logits).max())


def test_iterables_of_batches_give_the_same_rows(extracted, images):
    ex, (feats, _) = extracted
    from_iter = ex.features(iter([images[:1], images[1:].numpy()]))  # generator, mixed types
    np.testing.assert_allclose(from_iter, feats, rtol=0, atol=1e-5)
    pairs = ex.features([(images, torch.zeros(N))])  # DataLoader-style (images, labels)
    np.testing.assert_allclose(pairs, feats, rtol=0, atol=1e-5)
    assert ex.features(images[:0]).shape == (0, 2048)
    assert ex.features(iter([])).shape == (0, 2048)


def test_no_fc_logits_is_a_metric_error_before_any_work():
    ex = InceptionExtractor(FIDInceptionV3(with_fc=False))
    assert not ex.has_logits
    for call in (ex.logits, ex.features_and_logits):
        with pytest.raises(MetricError) as err:
            call(object())  # never looked at
        assert str(err.value) == NO_LOGITS_MESSAGE


def test_caller_module_is_not_modified(net):
    before = {k: v.clone() for k, v in net.state_dict().items()}
    InceptionExtractor(net, fuse=False, channels_last=True)
    InceptionExtractor(net)
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert net.Conv2d_1a_3x3.conv.weight.is_contiguous()  # not converted to channels_last
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())


def test_threads_are_restored(net):
    before = torch.get_num_threads()
    ex = InceptionExtractor(net, num_threads=1)
    ex.features(torch.zeros(0, 3, 8, 8))
    assert torch.get_num_threads() == before


def test_bad_arguments(net):
    with pytest.raises(ConfigError, match="mode"):
        InceptionExtractor(net, mode="tf")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="batch_size"):
        InceptionExtractor(net, batch_size=0)
    with pytest.raises(ConfigError, match="iterable"):
        InceptionExtractor(net).features(3)
