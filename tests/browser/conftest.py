"""Real-browser tests: Debian's chromium driven by selenium through
chromedriver, against the four services as real processes (tests/e2e/harness).

`make browser-deps` (run by `make test`) installs chromium, chromium-driver and
axe-core when missing.  Screenshots go to var/test-artifacts/screenshots/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from tests.e2e.harness import ROOT, Stack

SCREENSHOTS = ROOT / "var" / "test-artifacts" / "screenshots"
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SETUP_HINT = "run `make browser-deps` (deploy/local/browser.sh)"
# WCAG 2.1 A and AA rules; a serious or critical violation fails the test.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = frozenset({"serious", "critical"})


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, redis_url: str
) -> Iterator[Stack]:
    workdir: Path = tmp_path_factory.mktemp("browser")
    running = Stack(workdir=workdir, kafka_bootstrap=kafka_bootstrap, redis_url=redis_url)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        running.remove_traces()


def chrome(*, language: str = "en-GB", javascript: bool = True) -> webdriver.Chrome:
    """A headless Debian chromium (root in CI: no sandbox)."""
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.fail(f"chromium or chromedriver not installed; {SETUP_HINT}", pytrace=False)
    options = Options()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1400",
        f"--lang={language}",
    ):
        options.add_argument(argument)
    prefs: dict[str, Any] = {"intl.accept_languages": language}
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    options.add_experimental_option("prefs", prefs)
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    driver = chrome()
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """Save the whole page (as tall as its content) as a test artefact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = driver.get_window_size()
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(size["width"], max(int(height) + 120, 600))
    try:
        assert driver.save_screenshot(str(path)), path
    finally:
        driver.set_window_size(size["width"], size["height"])
    return path


def axe_violations(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page."""
    if not AXE.is_file():
        pytest.fail(f"axe-core not installed at {AXE}; {SETUP_HINT}", pytrace=False)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations), e => done([{id: 'axe-error', impact: 'critical',"
        " help: String(e), nodes: []}]));",
        AXE_TAGS,
    )
    return [v for v in result if v.get("impact") in FAILING_IMPACTS]


def assert_accessible(driver: webdriver.Chrome) -> None:
    violations = axe_violations(driver)
    summary = [
        (v["id"], v["impact"], v.get("help"), [n.get("target") for n in v.get("nodes", [])][:3])
        for v in violations
    ]
    assert not violations, summary
