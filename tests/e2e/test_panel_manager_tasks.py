"""A manager's tasks in a real browser, each from the panel alone, start to finish: Debian's Chromium (headless,
driven by Playwright) on a real Home Assistant started the way `make run` starts it (see test_panel_browser.py).

* an alarm (a reader's tamper switch, from the demo's simulator console) appears in the Alarms tab with a badge,
  stays after the switch closes, is acknowledged with a note and then closed;
* a visitor pass for later is listed at once as "Starts ...", its pass card is downloaded (its QR code is the pass's),
  and its link opens without a login in another browser and shows the pass;
* on a phone-width screen the tab bar shows that there are more tabs, and its arrow brings them into view.

Screenshots are kept under ``test-artifacts/panel/tasks/`` (``$E2E_ARTIFACTS/tasks``), named ``task-*.png``: a
folder of their own, which the session test's clean-up of ``test-artifacts/panel/*.png`` leaves alone.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from demo_process import Demo, running_demo
from test_panel_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, tid

from hub.residents.qr import read_pass_token

pytestmark = pytest.mark.usefixtures("socket_enabled")


_REJECTION_PREFIX = "unhandled rejection: "
_LOG_REJECTIONS = (
    'window.addEventListener("unhandledrejection", (event) => {\n'
    "  let reason;\n"
    "  try { reason = JSON.stringify(event.reason); } catch (_err) { reason = String(event.reason); }\n"
    f'  console.error("{_REJECTION_PREFIX}" + reason'
    ' + (event.reason && event.reason.stack ? " " + event.reason.stack : ""));\n'
    "});\n"
)


async def _login(page: Any, demo: Demo) -> None:
    from playwright.async_api import expect

    await page.goto(f"{demo.base}/smart-community")
    await page.locator("input[name=username]").fill(demo.username)
    await page.locator("input[name=password]").fill(demo.password)
    await page.locator("input[name=password]").press("Enter")
    await page.wait_for_url("**/smart-community**")
    await expect(page.locator(tid("tab-residents"))).to_be_visible()


async def _session(playwright: Any, demo: Demo, width: int = 1280, height: int = 860) -> tuple[Any, Any, list[str]]:
    browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    context = await browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    # A promise rejected with a plain object (what hass.callWS rejects with) reaches "pageerror" as "Object" only:
    # the page also logs what was rejected, so a failure says which command and why.
    await context.add_init_script(_LOG_REJECTIONS)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda message: errors.append(message.text)
            if message.text.startswith(_REJECTION_PREFIX) else None)
    await _login(page, demo)
    return browser, page, errors


async def test_an_alarm_is_acknowledged_then_closed_from_the_panel(tmp_path: Path, artefacts: Path) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=30_000)
    async with running_demo(tmp_path / "demo") as demo, async_playwright() as playwright:
        browser, page, errors = await _session(playwright, demo)
        try:
            await page.locator(tid("tab-alarms")).click()
            await demo.console("tamper 1 on")
            alarm = page.locator(tid("alarm-row", '[data-alarm="tamper"][data-state="open"]'))
            for _ in range(60):  # the list refreshes on its own every 15 s; a manager may click the tab again
                if await alarm.count():
                    break
                await page.wait_for_timeout(500)
                await page.locator(tid("tab-residents")).click()
                await page.locator(tid("tab-alarms")).click()
            await expect(alarm).to_have_count(1)
            alarm_id = await alarm.get_attribute("data-alarm-id")
            row = page.locator(tid("alarm-row", f'[data-alarm-id="{alarm_id}"]'))
            await expect(row).to_contain_text("Reader tampered with")
            await expect(row).to_contain_text("North gate")  # the demo's name for DEMO-DC-01's door 1
            badge = page.locator(tid("alarm-badge"))
            await expect(badge).to_be_visible()
            await page.screenshot(path=str(artefacts / "task-alarm-1-open.png"), full_page=True)

            # The switch closes again: the alarm stays, cleared, until someone deals with it.
            await demo.console("tamper 1 off")
            for _ in range(60):
                await page.locator(tid("tab-residents")).click()
                await page.locator(tid("tab-alarms")).click()
                if await row.get_attribute("data-active") == "false":
                    break
                await page.wait_for_timeout(500)
            await expect(row).to_have_attribute("data-active", "false")
            await expect(row).to_have_attribute("data-state", "open")

            # Acknowledge without a note: refused with the reason; with a note: acknowledged, by whom.
            await row.locator(tid("alarm-ack")).click()
            await expect(page.locator(tid("error-banner"))).to_contain_text("note")
            await row.locator(tid("alarm-note-input")).fill("Guard found the reader cover loose")
            await row.locator(tid("alarm-ack")).click()
            await expect(row).to_have_attribute("data-state", "acknowledged")
            await expect(row.locator(tid("alarm-acked"))).to_contain_text("by ")
            await expect(row.locator(tid("alarm-note"))).to_contain_text("reader cover loose")
            await page.screenshot(path=str(artefacts / "task-alarm-2-acknowledged.png"), full_page=True)

            await row.locator(tid("alarm-close-note")).fill("Cover screwed back, reader tested")
            await row.locator(tid("alarm-close")).click()
            await expect(row).to_have_count(0)  # closed alarms leave the list
            await page.locator(tid("alarms-show-closed")).check()
            await expect(row).to_have_attribute("data-state", "closed")
            await expect(row.locator(tid("alarm-closed"))).to_contain_text("by ")
            await page.screenshot(path=str(artefacts / "task-alarm-3-closed.png"), full_page=True)
        finally:
            await browser.close()
        assert not errors, errors


async def test_a_pass_for_later_is_listed_as_starting_downloaded_and_opened_by_its_link(
    tmp_path: Path, artefacts: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=30_000)
    start = datetime.now(UTC) + timedelta(days=2)
    async with running_demo(tmp_path / "demo") as demo, async_playwright() as playwright:
        browser, page, errors = await _session(playwright, demo)
        try:
            await page.locator(tid("tab-credentials")).click()
            await page.locator(tid("pass-visitor")).fill("Aunt Mei")
            issuer = page.locator(tid("pass-issued-by") + " option:not([value=''])").first
            await expect(issuer).to_be_attached()
            await page.locator(tid("pass-issued-by")).select_option(await issuer.get_attribute("value"))
            await page.locator(tid("pass-door")).first.check()
            await page.locator(tid("pass-valid-from")).fill(start.strftime("%Y-%m-%dT10:00"))
            await page.locator(tid("pass-valid-until")).fill(start.strftime("%Y-%m-%dT14:00"))
            await page.locator(tid("pass-issue")).click()

            summary = page.locator(tid("pass-summary"))
            await expect(summary.locator(tid("pass-summary-starts"))).to_contain_text("Starts")
            await expect(summary.locator(tid("pass-window"))).to_contain_text("Valid from")
            row = page.locator(tid("pass-row", '[data-upcoming="true"]')).filter(has_text="Aunt Mei")
            await expect(row).to_have_count(1)  # listed at once, not hidden as inactive
            await expect(row.locator(tid("pass-starts"))).to_contain_text("Starts")
            qr_src = await summary.locator(tid("pass-qr")).get_attribute("src") or ""
            token = read_pass_token(base64.b64decode(qr_src.split(",", 1)[1]))
            assert token is not None
            await page.screenshot(path=str(artefacts / "task-pass-1-issued.png"), full_page=True)

            async with page.expect_download() as download:
                await summary.locator(tid("pass-card-download")).click()
            card = (await (await download.value).path()).read_bytes()
            assert card.startswith(b"\x89PNG") and read_pass_token(card) == token
            (artefacts / "task-pass-2-card.png").write_bytes(card)

            link = await summary.locator(tid("pass-link")).input_value()
            assert link.startswith(demo.base) and token not in link
            # Another browser, no login: the visitor opens the link.
            visitor = await browser.new_context(viewport={"width": 390, "height": 844})
            visitor_page = await visitor.new_page()
            response = await visitor_page.goto(link)
            assert response is not None and response.status == 200
            await expect(visitor_page.locator(tid("pass-link-visitor"))).to_have_text("Aunt Mei")
            await expect(visitor_page.locator(tid("pass-link-starts"))).to_contain_text("Starts")
            await expect(visitor_page.locator(tid("pass-link-gates"))).to_contain_text("Gates:")
            await visitor_page.screenshot(path=str(artefacts / "task-pass-3-link.png"), full_page=True)

            # Revoked from the panel, the link shows nothing of it any more.
            await row.locator(tid("pass-revoke")).click()
            await expect(row).to_have_count(0)
            response = await visitor_page.goto(link)
            assert response is not None and response.status == 404
            await expect(visitor_page.locator(tid("pass-link-message"))).to_contain_text("can no longer be used")
            await expect(visitor_page.locator("body")).not_to_contain_text("Aunt Mei")
            await visitor_page.screenshot(path=str(artefacts / "task-pass-4-link-revoked.png"), full_page=True)
        finally:
            await browser.close()
        assert not errors, errors


async def test_the_tab_bar_on_a_phone_shows_there_are_more_tabs(tmp_path: Path, artefacts: Path) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=30_000)
    async with running_demo(tmp_path / "demo") as demo, async_playwright() as playwright:
        browser, page, errors = await _session(playwright, demo, width=360, height=740)
        try:
            more, less = page.locator(tid("tabs-more")), page.locator(tid("tabs-less"))
            last = page.locator(tid("tab-import"))
            await expect(more).to_be_visible()  # there are more tabs to the right
            await expect(less).to_be_hidden()
            await expect(last).not_to_be_in_viewport()
            await page.screenshot(path=str(artefacts / "task-phone-1-tabs-start.png"))
            for _ in range(10):
                if not await more.is_visible():
                    break
                await more.click()
                await page.wait_for_timeout(400)
            await expect(more).to_be_hidden()
            await expect(less).to_be_visible()
            await expect(last).to_be_in_viewport()
            await last.click()
            await expect(last).to_have_attribute("aria-selected", "true")
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, width
            await page.screenshot(path=str(artefacts / "task-phone-2-tabs-end.png"))
        finally:
            await browser.close()
        assert not errors, errors
