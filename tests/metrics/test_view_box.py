"""A domain framed into part of the image (SampleSet.view_box) is read by its classifier in that box."""

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.data import build_dataset
from gankit.data.transforms import bilinear_upscale_matrix, frame_images, invert_upscale, resize_images
from gankit.metrics import evaluate
from gankit.metrics.classifier import load_classifier, predict
from gankit.metrics.sources import SampleSet


def framed_digits(n: int = 200) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(8x8 test digits, the same in a 20x20 box centred in 28x28, labels)."""
    ds = build_dataset(DataConfig(name="digits", split="test", limit=n))
    return ds.x, frame_images(resize_images(ds.x, 20), 28), ds.y


def as_samples(x: torch.Tensor, y: torch.Tensor, box: int, native: int = 8) -> SampleSet:
    return SampleSet(x=x, name="framed digits", kind="array", identity={"kind": "array", "box": box}, labels=y,
                     labels_are_intended=True, dataset="digits", num_classes=10, view_box=box, view_native=native)


def test_bilinear_upscale_matrix_by_hand():
    # [a, b] -> 4 samples at source positions -0.25, 0.25, 0.75, 1.25 (clamped to the ends)
    want = torch.tensor([[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(bilinear_upscale_matrix(2, 4), want)
    x = torch.randn(3, 1, 8, 8).clamp(-1, 1)
    torch.testing.assert_close(bilinear_upscale_matrix(8, 20).float() @ x @ bilinear_upscale_matrix(8, 20).float().T,
                               resize_images(x, 20), atol=1e-6, rtol=0)


def test_classifier_view_crops_the_box_and_inverts_the_upscaling():
    small, framed, y = framed_digits(4)
    torch.testing.assert_close(as_samples(framed, y, 20).classifier_view(), small, atol=1e-5, rtol=0)
    torch.testing.assert_close(invert_upscale(resize_images(small, 28), 8), small, atol=1e-5, rtol=0)
    torch.testing.assert_close(as_samples(framed, y, 20, native=0).classifier_view(), resize_images(small, 20))
    assert as_samples(framed, y, 0, native=0).classifier_view() is framed


def test_class_acc_reads_framed_digits_in_their_box():
    small, framed, y = framed_digits()
    # independent reference: the digits classifier on the native 8x8 images, by hand
    want = float(np.mean(np.asarray(predict(load_classifier("digits"), small)[0]) == y.numpy()))
    boxed = evaluate(fake=as_samples(framed, y, 20), metrics=["class_acc"], n=len(y))["class_acc"]["accuracy"]
    whole = evaluate(fake=as_samples(framed, y, 0, native=0), metrics=["class_acc"], n=len(y))["class_acc"]["accuracy"]
    assert want > 0.9
    assert boxed == want  # 8x8 -> 20x20 -> 8x8 is the identity
    assert whole < want - 0.2  # the whole 28x28 frame shrunk to 8x8 shows the digit at 5.7x5.7 pixels
