"""The augmentation ops: translations and cutout by hand, shapes kept, gradients through."""

import pytest
import torch
from torch.testing import assert_close

from gankit.augment import diff_augment, translate
from gankit.augment.diffaugment import color, cutout, translation
from gankit.augment.ops import cutout_mask, flip_x, rotate90
from gankit.errors import ConfigError, ShapeError

IMAGE = torch.arange(1.0, 10.0).view(1, 1, 3, 3)  # [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_translation_by_hand_with_zero_fill():
    out = translate(IMAGE, torch.tensor([1]), torch.tensor([-1]))  # one row down, one column left
    want = torch.tensor([[0.0, 0.0, 0.0], [2.0, 3.0, 0.0], [5.0, 6.0, 0.0]]).view(1, 1, 3, 3)
    assert_close(out, want)


def test_translation_by_hand_with_reflection():
    out = translate(IMAGE, torch.tensor([0]), torch.tensor([1]), padding="reflect")  # one column right
    want = torch.tensor([[2.0, 1.0, 2.0], [5.0, 4.0, 5.0], [8.0, 7.0, 8.0]]).view(1, 1, 3, 3)
    assert_close(out, want)
    out = translate(IMAGE, torch.tensor([-1]), torch.tensor([0]), padding="reflect")  # one row up
    want = torch.tensor([[4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [4.0, 5.0, 6.0]]).view(1, 1, 3, 3)
    assert_close(out, want)


def test_translation_shifts_each_sample_on_its_own():
    x = torch.cat([IMAGE, IMAGE])  # (2, 1, 3, 3)
    out = translate(x, torch.tensor([0, 2]), torch.tensor([0, 0]))
    assert_close(out[0], IMAGE[0])
    assert_close(out[1, 0, 2], IMAGE[0, 0, 0])  # the first row moved to the last
    assert out[1, 0, :2].abs().sum() == 0


def test_cutout_mask_by_hand():
    mask = cutout_mask(1, 4, 4, torch.tensor([1]), torch.tensor([-1]), 2, 2)  # overhangs the left border
    want = torch.ones(4, 4, dtype=torch.bool)
    want[1:3, 0] = False
    assert torch.equal(mask[0, 0], want)


def test_flip_and_rotation_pick_samples():
    x = torch.randn(3, 2, 4, 4)
    out = flip_x(x, torch.tensor([True, False, True]))
    assert_close(out[0], x[0].flip(2))
    assert_close(out[1], x[1])
    out = rotate90(x, torch.tensor([0, 1, 3]))
    assert_close(out[0], x[0])
    assert_close(out[1], torch.rot90(x[1], 1, dims=(1, 2)))
    assert_close(out[2], torch.rot90(x[2], 3, dims=(1, 2)))


@pytest.mark.parametrize("op", [color, translation, cutout])
def test_diffaugment_ops_keep_shapes_and_are_differentiable(op):
    x = torch.randn(3, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    fixed = lambda v: op(v, torch.Generator().manual_seed(0))  # noqa: E731  (same draw every call)
    assert fixed(x).shape == x.shape
    assert torch.autograd.gradcheck(fixed, (x,), eps=1e-6, atol=1e-5)


def test_color_gradient_of_the_sum_is_one():
    # colour = brightness (+b), saturation (keeps each pixel's channel mean) and contrast (keeps
    # the image mean), so sum(T(x)) = sum(x) + const and its gradient is 1 whatever the draw
    x = torch.randn(2, 3, 4, 4, requires_grad=True)
    color(x).sum().backward()
    assert_close(x.grad, torch.ones_like(x))


def test_policy_is_checked_and_applied_in_order():
    x = torch.randn(2, 1, 8, 8)
    assert diff_augment(x, "translation,cutout").shape == x.shape
    with pytest.raises(ConfigError, match="unknown DiffAugment op 'flip'"):
        diff_augment(x, "color,flip")
    with pytest.raises(ShapeError):
        diff_augment(torch.randn(4, 2), "color")
