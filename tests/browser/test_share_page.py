"""A learner's share link opened in Chromium: the verdict, the link preview
tags, the badge image and LinkedIn's button; a revocation shows on the next
view; the page still verifies with issuer, catalog and revocation stopped."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser.conftest import assert_accessible, screenshot
from tests.e2e.client import Api
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

OTHERS = ("issuer", "catalog", "revocation")


@dataclass(frozen=True)
class Shared:
    url: str
    credential_id: str


async def _publish(stack: Stack) -> Shared:
    async with aiohttp.ClientSession() as session:
        api = Api(stack, session)
        achievement_id = await api.achievement(await api.accredited_issuer("Example Polytechnic"))
        await api.issuer_knows(achievement_id)
        issued = await api.issue(
            achievement_id, recipient={"id": "did:example:ada", "name": "Ada Lovelace"}
        )
        status, view = await api.call("POST", f"{issued['claimUrl']}/share")
        assert status == 201, view
        return Shared(view["share"]["url"], issued["credentialId"])


async def _revoke(stack: Stack, credential_id: str) -> None:
    async with aiohttp.ClientSession() as session:
        assert (await Api(stack, session).set_status(credential_id))[0] == 200


@pytest.fixture(scope="module")
def shared(stack: Stack) -> Shared:
    return asyncio.run(_publish(stack))


def _open(driver: webdriver.Chrome, url: str, state: str, *, within: float = 20) -> None:
    """Open the share page until it shows `state` (the share and a status
    change reach the verifier over Kafka)."""
    deadline = time.monotonic() + within
    while True:
        driver.get(url)
        found = driver.find_elements(By.ID, "verdict")
        if found and found[0].get_attribute("data-state") == state:
            return
        assert time.monotonic() < deadline, driver.page_source[:2000]
        time.sleep(0.3)


def _meta(driver: webdriver.Chrome, attribute: str, name: str) -> str:
    element = driver.find_element(By.CSS_SELECTOR, f'meta[{attribute}="{name}"]')
    return str(element.get_attribute("content"))


def test_the_share_page(stack: Stack, browser: webdriver.Chrome, shared: Shared) -> None:
    _open(browser, shared.url, "valid")
    assert shared.url.startswith(stack.url("verifier") + "/s/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Applied Data Protection"
    assert _meta(browser, "property", "og:title") == "Applied Data Protection"
    assert _meta(browser, "property", "og:image") == f"{shared.url}/badge.png"
    assert _meta(browser, "property", "og:url") == shared.url
    assert _meta(browser, "name", "twitter:card") == "summary_large_image"
    linkedin = browser.find_element(By.PARTIAL_LINK_TEXT, "LinkedIn").get_attribute("href")
    assert str(linkedin).startswith("https://www.linkedin.com/profile/add?")
    badge = browser.find_element(By.CSS_SELECTOR, "img.badge")
    loaded = browser.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth", badge
    )
    assert loaded and int(loaded) > 0  # the badge image is ours: the policy lets it load
    assert "Ada Lovelace" in browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, "share-valid-en")
    assert_accessible(browser)


def test_a_revoked_share_offline(stack: Stack, browser: webdriver.Chrome, shared: Shared) -> None:
    asyncio.run(_revoke(stack, shared.credential_id))
    _open(browser, shared.url, "revoked")
    stack.stop(*OTHERS)
    _open(browser, f"{shared.url}?lang=fr", "revoked", within=5)  # from Kafka and Redis alone
    assert "Révoquée" in browser.find_element(By.ID, "verdict").text
    screenshot(browser, "share-revoked-fr")
    assert_accessible(browser)


def test_an_unknown_share_link(stack: Stack, browser: webdriver.Chrome) -> None:
    browser.get(f"{stack.url('verifier')}/s/{'x' * 32}")
    assert browser.find_element(By.TAG_NAME, "h1").text == "No credential at this link"
    assert "does not exist" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert_accessible(browser)
