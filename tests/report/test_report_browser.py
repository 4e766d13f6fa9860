"""The report pages in a real browser (headless Chromium): no console errors, every image
loaded, the slider changes the shown grid.

Chromium comes from ``scripts/install-debian-packages.sh`` (Debian's ``chromium`` and
``chromium-driver``); the module skips, saying why, only where it cannot be installed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gankit.cli import main
from gankit.runs import train
from tests.helpers import tiny
from tests.report.chromium import chromium, missing_reason
from tests.report.page_html import parse_page

INSTALL = Path(__file__).resolve().parents[2] / "scripts" / "install-debian-packages.sh"


@pytest.fixture(scope="module")
def browser():
    if missing_reason():
        done = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True, timeout=900)
        reason = missing_reason()
        if reason:
            pytest.skip(f"{reason} ({(done.stdout + done.stderr).strip().splitlines()[-1:]})")
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """A digits report (grids at steps 2, 4, 6), a ring report and their comparison."""
    out = tmp_path_factory.mktemp("runs")
    digits = Path(train(tiny("digits-dcgan", out, "train.steps=6", "train.sample_every=2",
                             "train.run_name=digits")).run_dir)
    ring = Path(train(tiny("ring-gan", out, "train.steps=4", "train.sample_every=2", "train.run_name=ring")).run_dir)
    assert main(["eval", str(ring), "--metrics", "mmd", "--n", "200"]) == 0
    assert main(["report", str(digits)]) == 0 and main(["report", str(ring)]) == 0
    assert main(["compare", str(digits), str(ring), "--out", str(out / "compare.html")]) == 0
    return {"digits": digits / "report.html", "ring": ring / "report.html", "compare": out / "compare.html"}


IMAGES = "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
CHARTS = "return Array.from(document.querySelectorAll('svg.chart')).map(s => s.getBoundingClientRect().width)"


@pytest.mark.parametrize("name", ["digits", "ring", "compare"])
def test_page_loads_without_console_errors_and_every_image_loads(browser, pages, name):
    page = pages[name]
    browser.get(page.as_uri())
    images = browser.execute_script(IMAGES)
    expected = sum(len(v) for v in parse_page(page.read_text(encoding="utf-8")).images.values())
    assert len(images) == expected > 0
    assert all(complete and w > 0 and h > 0 for complete, w, h in images), images
    assert all(w > 0 for w in browser.execute_script(CHARTS))
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []


def test_slider_changes_the_shown_grid(browser, pages):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(pages["digits"].as_uri())
    slider = browser.find_element(By.CSS_SELECTOR, ".slider input[type=range]")
    label = browser.find_element(By.CSS_SELECTOR, ".slider .step")
    frames = browser.find_elements(By.CSS_SELECTOR, ".frames img")

    def shown() -> list[str]:
        return [f.get_attribute("data-step") for f in frames if f.is_displayed()]

    assert shown() == ["6"] and label.text == "step 6"
    slider.send_keys(Keys.HOME)
    assert shown() == ["2"] and label.text == "step 2"
    slider.send_keys(Keys.ARROW_RIGHT)
    assert shown() == ["4"] and label.text == "step 4"
    assert len({f.get_attribute("src") for f in frames}) == 3  # three different pictures
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
