"""Small configs that train in a fraction of a second."""

from gankit.presets import load_preset

TINY_RING = [
    "data.n_samples=512",
    "model.g_width=16",
    "model.d_width=16",
    "model.mlp_layers=2",
    "train.batch_size=32",
    "train.progress=false",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.log_every=2",
]

TINY_DIGITS = [
    "data.resolution=8",
    "data.limit=256",
    "model.z_dim=8",
    "model.g_width=8",
    "model.d_width=8",
    "train.batch_size=16",
    "train.progress=false",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.log_every=2",
]


def tiny(preset: str, tmp_path, *extra: str):
    base = TINY_RING if preset in ("ring-gan", "grid-gan") else TINY_DIGITS
    return load_preset(preset, [*base, f"train.out_dir={tmp_path}", *extra])


def mlp_only(arch: str, **keys: object) -> dict[str, object]:
    """``keys`` when ``arch`` is the MLP family, else nothing: tests parametrised over families
    pass the MLP's own keys (``mlp_layers``) only where the family has them."""
    return dict(keys) if arch == "mlp" else {}
