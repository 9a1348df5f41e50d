"""The dashboard in Welsh and bilingual in a real browser (headless Chromium): Welsh and cy+en labels
are longer than English ones, so nothing may scroll sideways at 390 px, and axe-core may find no
serious or critical violation on a cy+en page (its English halves marked lang="en") at 1280 and
390 px. Screenshots go to $SOCIALMON_SCREENSHOT_DIR/welsh when set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser_support import (
    axe_problems,
    axe_source,
    screenshot,
    screenshot_dir,
    sideways_overflow,
    viewport,
)
from tests.web.web_support import PASSWORD

pytestmark = pytest.mark.slow


def choose_language(driver: Any, lang: str) -> None:
    """The header's language menu, as a person uses it."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait

    Select(driver.find_element(By.ID, "lang")).select_by_value(lang)
    driver.find_element(By.CSS_SELECTOR, "form[action$='/language'] button").click()
    # (mid-navigation the old page's elements go stale: ask again until the new page answers)
    wait = WebDriverWait(driver, 15, ignored_exceptions=[WebDriverException])
    wait.until(lambda d: d.find_element(By.ID, "lang").get_attribute("value") == lang)


def test_welsh_and_bilingual_dashboard_in_a_real_browser(
    browser: Any, served: tuple[str, dict[str, int]], tmp_path: Path
) -> None:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    axe = axe_source()
    base, ids = served
    shots = screenshot_dir(tmp_path, "welsh")
    driver = browser
    viewport(driver, 1280)
    driver.get(base + "/login")
    choose_language(driver, "cy")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Mewngofnodi"
    driver.find_element(By.ID, "name").send_keys("admin@example.ac.uk")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form[action$='/login'] button").click()
    wait = WebDriverWait(driver, 15, ignored_exceptions=[WebDriverException])
    wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "Trosolwg")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "cy"

    pages = {
        "overview": "/",
        "findings": "/findings?status=all",
        "finding": f"/findings/{ids['high']}",
        "account": "/accounts/central-x",
        "emergency": "/emergency",
        "operations": "/operations",
        "not-found": "/accounts/no-such-account",
    }
    problems: dict[str, list[str]] = {}
    for lang, widths in (("cy", (390,)), ("cy+en", (1280, 390))):
        viewport(driver, 1280)
        driver.get(base + "/")
        choose_language(driver, lang)
        for width in widths:
            viewport(driver, width)
            for name, path in pages.items():
                driver.get(base + path)
                overflow = sideways_overflow(driver)
                assert overflow <= 0, f"{name} in {lang} scrolls sideways by {overflow}px at {width}px"
                if lang == "cy+en":
                    found = axe_problems(driver, axe)
                    if found:
                        problems[f"{name}@{width}"] = found
                screenshot(driver, f"dashboard-{lang}-{name}", width, shots)
    assert problems == {}, json.dumps(problems, indent=1)
    english = driver.find_elements(By.CSS_SELECTOR, "h1 span[lang='en']")
    assert [e.text for e in english] == ["Not found"]  # the last page: its English half, marked
