"""Headless Chromium (Debian's `chromium` through `chromium-driver`) for the console tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"


def chromium(width: int, height: int, mobile: bool = False) -> webdriver.Chrome:
    """A fresh headless browser window of this size (phone: touch and a phone user agent)."""
    binary = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.fail("Debian chromium and chromium-driver are needed (make setup installs them)")
    o = webdriver.ChromeOptions()
    o.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--autoplay-policy=no-user-gesture-required", "--lang=zh-CN",
                f"--window-size={width},{height}", "--hide-scrollbars"):
        o.add_argument(arg)
    if mobile:
        o.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0},
            "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile"})
    d = webdriver.Chrome(options=o, service=DriverService(executable_path=driver))
    d.set_page_load_timeout(20)
    return d
