"""The employer's verification page in Chromium, against the real services:
paste a JWT, upload a baked badge, read the verdict of a valid, a revoked and
a tampered credential, in English and French, on a phone, without JavaScript,
with axe-core finding no serious accessibility violation."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.browser.conftest import assert_accessible, axe_violations, chrome, screenshot
from tests.e2e.client import Api, until
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]


@dataclass(frozen=True)
class Issued:
    valid: str
    revoked: str
    tampered: str
    badges: dict[str, bytes]  # the issuer's baked badge.png and badge.svg of `revoked`
    hashed: str  # awarded to a hashed e-mail address, ada@example.org


def _tamper(token: str) -> str:
    """The same signature over a payload with another achievement name."""
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{signature}"


async def _issue(stack: Stack) -> Issued:
    async with aiohttp.ClientSession() as session:
        api = Api(stack, session)
        did = await api.accredited_issuer("Example Polytechnic")
        status, achievement = await api.call(
            "POST",
            f"{stack.url('catalog')}/achievements",
            json={
                "issuerDid": did,
                "name": "Applied Data Protection",
                "description": "Apply GDPR principles to data processing in an SME.",
                "criteria": {"narrative": "Pass the final assessment with at least 90%."},
                "masteryThreshold": 0.9,
                "alignment": [
                    {
                        "targetName": "apply data protection rules",
                        "targetUrl": "http://data.europa.eu/esco/skill/example-gdpr",
                        "targetFramework": "ESCO",
                    }
                ],
                "microCredential": {
                    "eqfLevel": 5,
                    "workloadHours": 50,
                    "ectsCredits": 2,
                    "assessmentType": "Supervised online exam",
                    "participationMode": "online",
                },
            },
            headers=api.auth,
        )
        assert status == 201, achievement
        await api.issuer_knows(achievement["id"])
        valid = await api.issue(achievement["id"])
        hashed = await api.issue(achievement["id"], recipient={"email": "ada@example.org"})
        revoked = await api.issue(achievement["id"])
        assert (await api.set_status(revoked["credentialId"]))[0] == 200

        async def revoked_on_a_date() -> bool:
            # the state from status.lists, its date ("Revoked on") from status.changes
            _, report = await api.verify(revoked["jwt"])
            return bool(report["state"] == "revoked" and report["stateDetails"].get("since"))

        assert await until(revoked_on_a_date, within=30)  # a loaded machine
        # The page's `valid` is trusted too: once the accreditation, the
        # achievement and the operator's status list reach the verifier (Kafka).
        assert await api.trusted_report(valid["jwt"], within=30), await api.verify(valid["jwt"])
        badges = {}
        for kind in ("png", "svg"):
            url = revoked["downloads"][f"badge.{kind}"]
            async with session.get(url, headers=stack.auth) as answer:
                assert answer.status == 200, await answer.text()
                badges[kind] = await answer.read()
        return Issued(valid["jwt"], revoked["jwt"], _tamper(valid["jwt"]), badges, hashed["jwt"])


@pytest.fixture(scope="module")
def issued(stack: Stack) -> Issued:
    return asyncio.run(_issue(stack))


def _wait(driver: webdriver.Chrome) -> WebDriverWait[webdriver.Chrome]:
    # While a page is replaced, chromedriver may answer a command about the old
    # one with a bare WebDriverException ("Node with given id does not belong to
    # the document") rather than a stale-element error: both mean "not yet".
    return WebDriverWait(driver, 20, ignored_exceptions=(WebDriverException,))


def _wait_verdict(driver: webdriver.Chrome) -> str:
    element = _wait(driver).until(
        expected_conditions.presence_of_element_located((By.ID, "verdict"))
    )
    return str(element.get_attribute("data-state"))


def _click_for_a_new_page(driver: webdriver.Chrome, button: WebElement) -> None:
    """Clicks and waits until the next document has loaded: the old one is marked."""
    driver.execute_script("document.documentElement.dataset.replaced = 'no'")
    button.click()
    _wait(driver).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete'"
            " && document.documentElement.dataset.replaced === undefined"
        )
    )


def _paste(driver: webdriver.Chrome, base: str, token: str, lang: str = "en") -> str:
    driver.get(f"{base}/?lang={lang}")
    box = driver.find_element(By.ID, "credential")
    # Pasting, as an employer does: the text lands in the field in one go.
    driver.execute_script("arguments[0].value = arguments[1];", box, token[:-8])
    box.send_keys(token[-8:])  # and a few keystrokes, so the field really takes input
    driver.find_element(By.CSS_SELECTOR, "form.check button[type=submit]").click()
    return _wait_verdict(driver)


def _verdict_text(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, "#verdict .verdict-line").text)


def test_the_form_is_accessible(stack: Stack, browser: webdriver.Chrome) -> None:
    browser.get(f"{stack.url('verifier')}/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Check a micro-credential"
    assert "has-js" in str(browser.find_element(By.TAG_NAME, "html").get_attribute("class"))
    screenshot(browser, "form-en")
    assert_accessible(browser)


def test_axe_finds_a_serious_violation(stack: Stack, browser: webdriver.Chrome) -> None:
    """The accessibility check can fail: a field without a label and grey-on-grey text."""
    browser.get(f"{stack.url('verifier')}/")
    browser.execute_script(
        "const main = document.getElementById('main');"
        "const field = document.createElement('input'); field.id = 'unlabelled';"
        "const faint = document.createElement('p'); faint.textContent = 'faint';"
        "faint.style.color = '#aaa'; faint.style.background = '#bbb';"  # CSSOM: CSP allows it
        "main.append(field, faint);"
    )
    found = {v["id"] for v in axe_violations(browser)}
    assert {"label", "color-contrast"} <= found, found


def test_keyboard_reaches_the_form(stack: Stack, browser: webdriver.Chrome) -> None:
    browser.get(f"{stack.url('verifier')}/")
    keys = ActionChains(browser)
    keys.send_keys(Keys.TAB).perform()
    assert browser.switch_to.active_element.get_attribute("class") == "skip"
    seen = []
    for _ in range(8):
        keys.send_keys(Keys.TAB).perform()
        seen.append(browser.switch_to.active_element.get_attribute("id"))
    assert [i for i in seen if i in ("credential", "file", "url", "recipient")] == [
        "credential",
        "file",
        "url",
        "recipient",
    ], seen


def test_a_pasted_valid_jwt(stack: Stack, browser: webdriver.Chrome, issued: Issued) -> None:
    assert _paste(browser, stack.url("verifier"), issued.valid) == "valid"
    assert _verdict_text(browser).startswith("✔")
    assert "Valid: this credential is genuine" in _verdict_text(browser)
    page = browser.find_element(By.TAG_NAME, "main").text
    for fact in ("Applied Data Protection", "apply data protection rules", "Example Polytechnic"):
        assert fact in page, fact
    assert "Example QA Agency" in page  # who accredited the issuer
    outcomes = {
        li.get_attribute("data-check"): li.get_attribute("class")
        for li in browser.find_elements(By.CSS_SELECTOR, "li.check")
    }
    assert outcomes["proof"] == "check outcome-ok" and outcomes["trust"] == "check outcome-ok"
    screenshot(browser, "result-valid-en")
    assert_accessible(browser)


def test_a_revoked_jwt(stack: Stack, browser: webdriver.Chrome, issued: Issued) -> None:
    assert _paste(browser, stack.url("verifier"), issued.revoked) == "revoked"
    assert "Revoked: the issuer has withdrawn" in _verdict_text(browser)
    assert "Revoked on" in browser.find_element(By.ID, "verdict").text  # with its date
    screenshot(browser, "result-revoked-en")
    assert_accessible(browser)


def test_a_tampered_jwt(stack: Stack, browser: webdriver.Chrome, issued: Issued) -> None:
    assert _paste(browser, stack.url("verifier"), issued.tampered) == "tampered"
    assert "Tampered with or forged" in _verdict_text(browser)
    screenshot(browser, "result-tampered-en")
    assert_accessible(browser)


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_an_uploaded_baked_badge(
    stack: Stack, browser: webdriver.Chrome, issued: Issued, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / f"badge.{kind}"
    path.write_bytes(issued.badges[kind])  # as the issuer baked it for the learner
    browser.get(f"{stack.url('verifier')}/")
    browser.find_element(By.ID, "file").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, "form.check button[type=submit]").click()
    assert _wait_verdict(browser) == "revoked"


def test_the_french_page(stack: Stack, issued: Issued) -> None:
    driver = chrome(language="fr-FR")  # Accept-Language: fr-FR
    try:
        driver.get(f"{stack.url('verifier')}/")
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
        assert driver.find_element(By.TAG_NAME, "h1").text == "Vérifier une micro-certification"
        assert driver.find_element(By.CSS_SELECTOR, "label[for=credential]").text.startswith(
            "Collez"
        )
        screenshot(driver, "form-fr")
        assert_accessible(driver)
        assert _paste(driver, stack.url("verifier"), issued.revoked, lang="fr") == "revoked"
        assert "Révoquée" in _verdict_text(driver)
        assert "Toutes les vérifications" in driver.find_element(By.TAG_NAME, "main").text
        screenshot(driver, "result-revoked-fr")
        assert_accessible(driver)
        _click_for_a_new_page(driver, driver.find_element(By.LINK_TEXT, "English"))
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    finally:
        driver.quit()


def test_on_a_phone_without_javascript(stack: Stack, issued: Issued) -> None:
    driver = chrome(javascript=False)
    try:
        driver.set_window_size(375, 812)
        assert _paste(driver, stack.url("verifier"), issued.valid) == "valid"
        assert "has-js" not in str(driver.find_element(By.TAG_NAME, "html").get_attribute("class"))
        wide = driver.execute_script(
            "return [...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth)"
            ".map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40))"
        )
        assert wide == []  # nothing sticks out sideways on a 375 px screen
        widths = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert widths[0] <= widths[1], widths
        screenshot(driver, "result-valid-phone")
    finally:
        driver.quit()


def test_a_hashed_email_checked_against_the_candidates(
    stack: Stack, browser: webdriver.Chrome, issued: Issued
) -> None:
    assert _paste(browser, stack.url("verifier"), issued.hashed) == "valid"
    assert "A hashed e-mail address: check it." in browser.find_element(By.TAG_NAME, "main").text
    for typed, outcome, state in (
        ("Ada@Example.org", "ok", "valid"),
        ("eve@example.org", "failed", "untrusted"),
    ):
        field = browser.find_element(By.ID, "compare-email")
        field.clear()
        field.send_keys(typed)
        _click_for_a_new_page(
            browser, browser.find_element(By.CSS_SELECTOR, "form.compare button[type=submit]")
        )
        found = browser.find_element(By.ID, "recipient")
        assert found.get_attribute("data-outcome") == outcome, (found.tag_name, found.text)
        assert _wait_verdict(browser) == state
    screenshot(browser, "result-recipient-mismatch-en")
    assert_accessible(browser)


def test_a_link_to_a_private_address_is_refused(stack: Stack, browser: webdriver.Chrome) -> None:
    browser.get(f"{stack.url('verifier')}/")
    browser.find_element(By.ID, "url").send_keys(f"{stack.url('issuer')}/healthz")
    browser.find_element(By.CSS_SELECTOR, "form.check button[type=submit]").click()
    alert = _wait(browser).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]"))
    )
    assert "was not fetched" in alert.text  # the SSRF guard: loopback is never fetched
    assert browser.find_element(By.ID, "credential").is_displayed()  # the form, to try again
    screenshot(browser, "form-link-refused-en")
    assert_accessible(browser)


def test_a_file_dropped_on_the_form(
    stack: Stack, browser: webdriver.Chrome, issued: Issued
) -> None:
    """The drag-and-drop script puts a dropped file in the file field."""
    browser.get(f"{stack.url('verifier')}/")
    browser.execute_script(
        "const data = new DataTransfer();"
        "data.items.add(new File([arguments[0]], 'credential.jwt', {type: 'text/plain'}));"
        "const drop = document.getElementById('drop');"
        "drop.dispatchEvent(new DragEvent('dragover', {dataTransfer: data, bubbles: true}));"
        "drop.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true}));",
        issued.tampered,
    )
    names = browser.execute_script(
        "return [...document.getElementById('file').files].map(f => f.name)"
    )
    assert names == ["credential.jwt"]
    browser.find_element(By.CSS_SELECTOR, "form.check button[type=submit]").click()
    assert _wait_verdict(browser) == "tampered"
