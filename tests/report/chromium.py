"""Headless Chromium through Selenium, offline: Debian's ``chromium`` and ``chromedriver``
(``scripts/install-debian-packages.sh``), no Selenium Manager lookup, no browser download."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")


def missing_reason() -> str | None:
    """Why the browser cannot run here, or None."""
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not os.access(binary, os.X_OK):
            return f"{binary} not installed: run scripts/install-debian-packages.sh"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not installed: pip install -e '.[dev]'"
    return None


@contextmanager
def chromium(width: int = 1000, height: int = 800) -> Iterator["object"]:
    """A headless Chromium WebDriver logging every browser console message."""
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look anything up online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="gankit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def page_screenshot(driver, path: Path, width: int = 1000) -> int:
    """A PNG of the whole page ``width`` pixels wide (the window grown to the page's
    height); returns the page's height in pixels."""
    driver.set_window_size(width, 800)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, height + 200)  # the window's frame takes part of it
    driver.save_screenshot(str(path))
    return int(driver.execute_script("return document.documentElement.scrollHeight"))
