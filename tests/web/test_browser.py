"""A real browser (headless Chromium through chromedriver) over the served dashboard.

It signs in, acknowledges a finding, snoozes another, declares and stops an emergency, all
with the keyboard; runs axe-core on every page at 1280 px and 390 px (no serious or critical
violation allowed); checks nothing overflows sideways at phone width; and saves screenshots.

Needs Debian's `chromium` and `chromium-driver` and axe-core from the npm registry
(`npm pack axe-core`, unpacked; its `axe.min.js` named by $SOCIALMON_AXE_JS). .ci/run installs
all three. Missing, the test fails: it does not skip.
Screenshots go to $SOCIALMON_SCREENSHOT_DIR when set, else into the test's temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.store import Store
from monitor.web.app import create_app
from monitor.web.server import WebServer
from tests.web.web_support import PASSWORD, make_config, seed

pytestmark = pytest.mark.slow

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


def _axe_source() -> str:
    path = os.environ.get("SOCIALMON_AXE_JS", "")
    if not path or not Path(path).is_file():
        pytest.fail(
            "SOCIALMON_AXE_JS must name axe-core's axe.min.js (`npm pack axe-core`, unpack, "
            f"point at package/axe.min.js); it is {path!r}"
        )
    return Path(path).read_text(encoding="utf-8")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(binary):
            pytest.fail(f"{binary} is missing: apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def served(store: Store, tmp_path: Path) -> Iterator[tuple[str, dict[str, int]]]:
    config = make_config(tmp_path / "unused.db")
    ids = seed(store)
    server = WebServer(create_app(config, store, secret_key=b"b" * 32), "127.0.0.1", 0).start()
    try:
        yield server.url.rstrip("/"), ids
    finally:
        server.stop()


def viewport(driver: Any, width: int, height: int = 900) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
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


def keyboard_press(driver: Any, element: Any) -> None:
    """Press Enter on a control and wait for the page it leads to (Selenium does not wait for it)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.send_keys(Keys.ENTER)
    # Mid-navigation chromedriver may answer "Node with given id does not belong to the document"
    # (an unknown error, not a stale reference) about the old page: ask again until it says stale.
    WebDriverWait(driver, 15, ignored_exceptions=[WebDriverException]).until(
        expected_conditions.staleness_of(old)
    )


def test_dashboard_in_a_real_browser(
    browser: Any, served: tuple[str, dict[str, int]], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    axe = _axe_source()
    base, ids = served
    shots = Path(os.environ.get("SOCIALMON_SCREENSHOT_DIR") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    driver = browser
    viewport(driver, 1280)

    # Sign in, by keyboard; the login page itself must pass axe.
    driver.get(base + "/")
    assert "/login" in driver.current_url
    assert axe_problems(driver, axe) == []
    screenshot(driver, "login", 1280, shots)
    driver.find_element(By.ID, "name").send_keys("admin@example.ac.uk")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    keyboard_press(driver, driver.find_element(By.ID, "password"))
    assert driver.find_element(By.TAG_NAME, "h1").text == "Overview"

    # The first Tab reaches the skip link, and following it lands in the main content.
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    active = driver.switch_to.active_element
    assert active.get_attribute("class") == "skip" and active.is_displayed()
    active.send_keys(Keys.ENTER)
    assert driver.switch_to.active_element.get_attribute("id") == "main"

    # Acknowledge the high finding: note typed, button pressed with Enter.
    driver.get(f"{base}/findings/{ids['high']}")
    driver.find_element(By.ID, "ack-note").send_keys("On it: checking with the Music office")
    keyboard_press(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/acknowledge'] button"))
    assert "Acknowledged" in driver.find_element(By.CSS_SELECTOR, ".messages").text
    assert (
        "On it: checking with the Music office"
        in driver.find_element(By.ID, "history").find_element(By.XPATH, "..").text
    )

    # Snooze the other one for a day: the radio chosen with the keyboard (Space), then Enter.
    driver.get(f"{base}/findings/{ids['warning']}")
    driver.find_element(By.ID, "snooze-1d").send_keys(Keys.SPACE)
    assert driver.find_element(By.ID, "snooze-1d").is_selected()
    keyboard_press(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/snooze'] button"))
    assert "snoozed" in driver.find_element(By.CSS_SELECTOR, ".summary").text

    # Declare an emergency, see the banner everywhere, then stop it.
    driver.get(base + "/emergency")
    driver.find_element(By.ID, "reason").send_keys("Drill: campus lockdown")
    keyboard_press(driver, driver.find_element(By.ID, "reason"))
    assert "Emergency declared" in driver.find_element(By.CSS_SELECTOR, ".banner").text
    pages = {
        "overview": "/",
        "findings": "/findings?status=all",
        "finding": f"/findings/{ids['high']}",
        "finding-open": f"/findings/{ids['counterpart']}",
        "account": "/accounts/central-x",
        "emergency": "/emergency",
        "operations": "/operations",
        "not-found": "/accounts/no-such-account",
    }
    problems: dict[str, list[str]] = {}
    for width in (1280, 390):
        viewport(driver, width)
        for name, path in pages.items():
            driver.get(base + path)
            found = axe_problems(driver, axe)
            if found:
                problems[f"{name}@{width}"] = found
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
            screenshot(driver, name, width, shots)
    assert problems == {}, json.dumps(problems, indent=1)

    viewport(driver, 1280)
    driver.get(base + "/emergency")
    keyboard_press(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/emergency/stop'] button"))
    assert "No emergency is declared" in driver.find_element(By.ID, "main").text
    assert not driver.find_elements(By.CSS_SELECTOR, ".banner")
    screenshot(driver, "emergency-stopped", 1280, shots)
    assert len(list(shots.glob("*.png"))) == 2 * len(pages) + 2
