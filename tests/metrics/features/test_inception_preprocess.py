"""Input pipelines against independent references written here (float64 / PIL)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from gankit.errors import ConfigError, DataError, ShapeError
from gankit.metrics.features.preprocess import (
    as_nchw,
    preprocess,
    preprocess_clean,
    preprocess_pytorch_fid,
    quantize_uint8,
)


def _pytorch_fid_reference(unit01: torch.Tensor) -> torch.Tensor:
    """pytorch-fid on [0, 1] images, in float64: bilinear resize to 299, then 2x - 1."""
    x = F.interpolate(unit01.double(), size=(299, 299), mode="bilinear", align_corners=False)
    return 2 * x - 1


def _pytorch_fid_float32(unit01: torch.Tensor) -> torch.Tensor:
    """pytorch-fid's own float32 arithmetic (ToTensor, resize_input, normalize_input)."""
    x = F.interpolate(unit01.float(), size=(299, 299), mode="bilinear", align_corners=False)
    return 2 * x - 1


FLOAT32_TOL = 1e-5  # float32 vs the float64 reference (measured ~4e-6: float32 source indices)


@pytest.fixture
def rgb():
    g = torch.Generator().manual_seed(0)
    return torch.rand(2, 3, 28, 30, generator=g) * 2 - 1  # (N, 3, H, W) in [-1, 1]


def test_pytorch_fid_mode_matches_float64_reference(rgb):
    out = preprocess(rgb, "pytorch-fid")
    assert out.shape == (2, 3, 299, 299) and out.dtype == torch.float32
    ref = _pytorch_fid_reference((rgb.double() + 1) / 2)
    assert (out.double() - ref).abs().max().item() < FLOAT32_TOL
    torch.testing.assert_close(out, _pytorch_fid_float32((rgb + 1) / 2), rtol=0, atol=0)  # same float32 ops
    cl = preprocess_pytorch_fid(rgb, channels_last=True)
    assert cl.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(cl, out, rtol=0, atol=0)


def test_pytorch_fid_mode_uint8_is_totensor_over_255():
    g = torch.Generator().manual_seed(1)
    u8 = torch.randint(0, 256, (2, 17, 19, 3), dtype=torch.uint8, generator=g)  # (N, H, W, C)
    out = preprocess(u8, "pytorch-fid")
    ref = _pytorch_fid_reference(u8.permute(0, 3, 1, 2).double() / 255)
    assert (out.double() - ref).abs().max().item() < FLOAT32_TOL
    torch.testing.assert_close(out, _pytorch_fid_float32(u8.permute(0, 3, 1, 2).float() / 255), rtol=0, atol=0)
    # the same images as NCHW uint8 and as a NumPy array give the same result
    nchw = u8.permute(0, 3, 1, 2).contiguous()
    torch.testing.assert_close(preprocess(nchw), out, rtol=0, atol=0)
    torch.testing.assert_close(preprocess(u8.numpy()), out, rtol=0, atol=0)


def test_grayscale_is_replicated_like_pil_convert_rgb():
    g = torch.Generator().manual_seed(2)
    gray = torch.rand(3, 1, 28, 28, generator=g) * 2 - 1
    for mode in ("pytorch-fid", "clean"):
        out = preprocess(gray, mode)
        assert out.shape == (3, 3, 299, 299)
        assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 0], out[:, 2])
        torch.testing.assert_close(out, preprocess(gray.expand(-1, 3, -1, -1), mode), rtol=0, atol=0)
    u8 = torch.randint(0, 256, (2, 28, 28), dtype=torch.uint8, generator=g)  # (N, H, W) grayscale
    ref = _pytorch_fid_reference(u8[:, None].double().expand(-1, 3, -1, -1) / 255)
    assert (preprocess(u8).double() - ref).abs().max().item() < FLOAT32_TOL


def test_input_already_299_is_only_rescaled():
    x = torch.rand(1, 3, 299, 299) * 2 - 1
    torch.testing.assert_close(preprocess(x), x, rtol=0, atol=1e-6)


def _clean_reference(img_hwc_uint8: np.ndarray) -> np.ndarray:
    """clean-fid "clean": per channel PIL mode "F" bicubic resize, clip, (x - 128) / 128."""
    channels = []
    for c in range(img_hwc_uint8.shape[2]):
        pil = Image.fromarray(img_hwc_uint8[:, :, c].astype(np.float32))
        assert pil.mode == "F"
        resized = pil.resize((299, 299), resample=Image.Resampling.BICUBIC)
        channels.append(np.asarray(resized).clip(0, 255))
    return (np.stack(channels) - 128.0) / 128.0  # (3, 299, 299)


def test_clean_mode_matches_pil_reference():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (32, 24, 3), dtype=np.uint8)  # (H, W, C)
    out = preprocess_clean(img[None])  # (1, H, W, C) uint8
    assert out.shape == (1, 3, 299, 299)
    np.testing.assert_array_equal(out[0].numpy(), _clean_reference(img).astype(np.float32))
    assert out.min() >= -1 and out.max() <= 127 / 128
    # differs from the pytorch-fid pipeline (bicubic, anti-aliased vs bilinear; /128 vs /127.5)
    assert (out - preprocess(img[None], "pytorch-fid")).abs().max() > 1e-3


def test_clean_mode_quantises_floats_first():
    rng = np.random.default_rng(4)
    u8 = rng.integers(0, 256, (2, 3, 20, 20), dtype=np.uint8)
    as_float = torch.from_numpy(u8).float() / 127.5 - 1
    torch.testing.assert_close(preprocess(as_float, "clean"), preprocess(u8, "clean"), rtol=0, atol=0)


def test_quantize_inverts_the_float_mapping():
    u = torch.arange(256, dtype=torch.uint8)
    assert torch.equal(quantize_uint8(u.float() / 127.5 - 1), u)
    assert quantize_uint8(torch.tensor([-1.0, 1.0, 0.0])).tolist() == [0, 255, 128]


def test_bad_inputs():
    with pytest.raises(DataError, match=r"\[-1, 1\]"):
        preprocess(torch.rand(1, 3, 8, 8) * 255)
    with pytest.raises(DataError, match="NaN"):
        preprocess(torch.full((1, 3, 8, 8), float("nan")))
    with pytest.raises(ShapeError, match="1 or 3 channels"):
        preprocess(torch.zeros(1, 2, 8, 8))
    with pytest.raises(ShapeError, match="dtype"):
        preprocess(torch.zeros(1, 3, 8, 8, dtype=torch.int32))
    with pytest.raises(ShapeError):
        preprocess(torch.zeros(3, 8, 8))  # float needs (N, C, H, W)
    with pytest.raises(ConfigError, match="mode"):
        preprocess(torch.zeros(1, 3, 8, 8), "tf")  # type: ignore[arg-type]
    slightly_out = torch.full((1, 3, 4, 4), 1.0005)
    assert as_nchw(slightly_out).max().item() == 1.0  # tiny overshoot (tanh rounding) clamped
