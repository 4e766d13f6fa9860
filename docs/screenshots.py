"""Screenshots of the report pages for the docs (``docs/images/report-*.png``).

Trains three small runs (a DCGAN on the 8x8 digits, two 8-Gaussian ring GANs that differ in
their loss), evaluates the rings, writes a report and a comparison, and saves each page as
seen by headless Chromium (``scripts/install-debian-packages.sh``), 1000 px wide, cropped and
reduced to a palette so the PNGs stay small::

    python docs/screenshots.py            # a few CPU minutes
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the test suite's Chromium launcher

from gankit.cli import main  # noqa: E402
from gankit.presets import load_preset  # noqa: E402
from gankit.runs import train  # noqa: E402
from tests.report.chromium import chromium, missing_reason, page_screenshot  # noqa: E402

WIDTH = 1000
MAX_HEIGHT = 2200  # the top of a long page: samples, curves, metrics
COLORS = 128


def shrink(path: Path, max_height: int = MAX_HEIGHT) -> None:
    """Crop to ``max_height`` and reduce to a ``COLORS``-colour palette, in place."""
    with Image.open(path) as im:
        image = im.convert("RGB")
    image = image.crop((0, 0, image.width, min(image.height, max_height)))
    image.quantize(colors=COLORS, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def make_runs(out: Path) -> dict[str, Path]:
    quiet = ["train.progress=false", f"train.out_dir={out}"]
    digits = train(load_preset("digits-dcgan", [*quiet, "train.steps=600", "train.sample_every=50",
                                                "train.run_name=digits-dcgan"])).run_dir
    rings = {}
    for loss in ("ns", "hinge"):
        cfg = load_preset("ring-gan", [*quiet, "train.steps=1500", "train.sample_every=100", f"recipe.loss={loss}",
                                       f"train.run_name=ring-{loss}"])
        rings[loss] = Path(train(cfg).run_dir)
        assert main(["eval", str(rings[loss]), "--metrics", "mode_coverage,mmd", "--n", "2500"]) == 0
    assert main(["report", str(digits)]) == 0
    assert main(["compare", str(rings["ns"]), str(rings["hinge"]), "--out", str(out / "compare.html")]) == 0
    return {"report-run": Path(digits) / "report.html", "report-compare": out / "compare.html"}


def main_screenshots(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "images"), help="folder of the PNGs")
    args = parser.parse_args(argv)
    reason = missing_reason()
    if reason:
        print(f"screenshots: {reason}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pages = make_runs(Path(tmp))
        with chromium(WIDTH) as driver:
            for name, page in pages.items():
                driver.get(page.as_uri())
                target = out / f"{name}.png"
                shrink(target, min(MAX_HEIGHT, page_screenshot(driver, target, WIDTH)))
                print(f"{target} ({target.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main_screenshots())
