"""Headless Chromium through chromedriver, axe-core and screenshots, for the browser tests.

Needs Debian's `chromium` and `chromium-driver` and axe-core from the npm registry
(`npm pack axe-core`, unpacked; its `axe.min.js` named by $SOCIALMON_AXE_JS). .ci/run installs
all three. Missing, a test fails: it does not skip.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SOCIALMON_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SOCIALMON_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_source() -> str:
    path = os.environ.get("SOCIALMON_AXE_JS", "")
    if not path or not Path(path).is_file():
        pytest.fail(
            "SOCIALMON_AXE_JS must name axe-core's axe.min.js (`npm pack axe-core`, unpack, "
            f"point at package/axe.min.js); it is {path!r}"
        )
    return Path(path).read_text(encoding="utf-8")


@contextmanager
def chromium(profile_dir: Path) -> Iterator[Any]:
    """A headless Chromium driven by chromedriver, quit afterwards."""
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(binary):
            pytest.fail(f"{binary} is missing: apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot_dir(tmp_path: Path, sub: str = "") -> Path:
    """$SOCIALMON_SCREENSHOT_DIR when set, else a folder in the test's temporary directory; `sub`, a
    folder of its own in it (a test that counts its screenshots counts only its own)."""
    shots = Path(os.environ.get("SOCIALMON_SCREENSHOT_DIR") or tmp_path / "screenshots") / sub
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def viewport(driver: Any, width: int, height: int = 900) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def sideways_overflow(driver: Any) -> int:
    """How many pixels the page scrolls sideways (0 or less: it does not)."""
    return int(
        driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def axe_problems(driver: Any, source: str) -> list[str]:
    """Serious and critical axe-core violations on the current page, one line each."""
    driver.execute_script(source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(JSON.stringify(r.violations))).catch(e => done(JSON.stringify([{id: 'axe-error', "
        "impact: 'critical', help: String(e), nodes: []}])));",
        AXE_TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n.get('target') for n in v['nodes']][:3]}"
        for v in json.loads(result)
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(driver: Any, name: str, width: int, into: Path) -> Path:
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    viewport(driver, width, min(max(height, 600), 6000))
    path = into / f"{name}-{width}.png"
    driver.save_screenshot(str(path))
    viewport(driver, width)
    return path
