"""The history of generated images that CycleGAN's discriminators see (Shrivastava et al. 2017,
"Learning from Simulated and Unsupervised Images through Adversarial Training", §2.3; Zhu et
al. 2017, §4: a buffer of the 50 last generated images).

``query(images)`` returns a batch for D, one image at a time in batch order:

* while the pool holds fewer than ``size`` images, the new image is stored and returned;
* once full, with probability 1/2 a stored image (uniform position ``j``) is returned and the
  new image takes its place, otherwise the new image is returned and the pool is unchanged.

The draws come from the pool's own ``torch.Generator`` (for each image of a full pool, one
``torch.rand(1)``, then ``torch.randint(size, (1,))`` when it is below 1/2), so the pool is
reproducible and its whole state, images and RNG, is saved with the checkpoint (``state``,
``tensors``): a resumed run continues exactly.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from gankit.errors import CheckpointError, ConfigError

SWAP_PROBABILITY = 0.5


class ImagePool:
    """A history of at most ``size`` generated images (``size = 0``: no pool, ``query`` returns
    its input). ``seed`` seeds the pool's generator."""

    def __init__(self, size: int, seed: int) -> None:
        if size < 0:
            raise ConfigError(f"image pool size must be >= 0, got {size}")
        self.size = int(size)
        self.generator = torch.Generator().manual_seed(int(seed))
        self.images: torch.Tensor | None = None  # (size, C, H, W) once the first batch arrives
        self.count = 0  # images stored so far (at most size)

    @torch.no_grad()
    def query(self, images: torch.Tensor) -> torch.Tensor:
        """A batch ``(N, C, H, W)`` for D: the new ``images`` mixed with stored ones (see the module
        docstring); the new images are stored detached."""
        if self.size == 0:
            return images.detach()
        images = images.detach()
        if self.images is None:
            self.images = images.new_zeros((self.size, *images.shape[1:]))  # (size, C, H, W)
        elif self.images.shape[1:] != images.shape[1:]:
            raise ConfigError(f"image pool holds images of shape {tuple(self.images.shape[1:])}, "
                              f"got {tuple(images.shape[1:])}")
        out = images.clone()  # (N, C, H, W)
        for i in range(images.shape[0]):
            if self.count < self.size:
                self.images[self.count] = images[i]
                self.count += 1
            elif torch.rand(1, generator=self.generator).item() < SWAP_PROBABILITY:
                j = int(torch.randint(self.size, (1,), generator=self.generator).item())
                out[i] = self.images[j]
                self.images[j] = images[i]
        return out

    # -- checkpoint state: the count as JSON, the images and the generator's state as tensors
    def state(self) -> dict[str, Any]:
        return {"count": self.count}

    def tensors(self) -> dict[str, torch.Tensor]:
        out = {"rng": self.generator.get_state()}
        if self.images is not None and self.count > 0:
            out["images"] = self.images[: self.count]
        return out

    def load(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor], device: torch.device) -> None:
        count = int(state["count"])
        if not 0 <= count <= self.size or (count > 0) != ("images" in tensors) or "rng" not in tensors:
            raise CheckpointError(f"image pool state does not match a pool of size {self.size} (count {count})")
        self.count = count
        self.generator.set_state(tensors["rng"])
        if count:
            stored = tensors["images"]
            if stored.shape[0] != count:
                raise CheckpointError(f"image pool has {stored.shape[0]} stored images, its count says {count}")
            self.images = stored.new_zeros((self.size, *stored.shape[1:])).to(device)
            self.images[:count] = stored.to(device)
        else:
            self.images = None
