"""A real browser (headless Chromium through chromedriver) over the served dashboard.

It signs in, acknowledges a finding, snoozes another, declares and stops an emergency, all
with the keyboard; runs axe-core on every page at 1280 px and 390 px (no serious or critical
violation allowed); checks nothing overflows sideways at phone width; and saves screenshots.

Needs Chromium, chromedriver and axe-core (tests/web/browser_support.py says where from); missing,
the test fails: it does not skip.
Screenshots go to $SOCIALMON_SCREENSHOT_DIR when set, else into the test's temporary directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser_support import axe_problems, axe_source, screenshot, screenshot_dir, viewport
from tests.web.web_support import PASSWORD

pytestmark = pytest.mark.slow


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

    axe = axe_source()
    base, ids = served
    shots = screenshot_dir(tmp_path)
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
