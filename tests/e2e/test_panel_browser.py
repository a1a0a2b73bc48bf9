"""End to end in a real browser: Debian's Chromium (headless, driven by Playwright) uses the managers' panel of a
real Home Assistant started the way `make run` starts it.

Log in through Home Assistant's own login page, add a resident, record consent, enrol a face from a real photo
and see a refused photo with its reason, issue a visitor pass and read its QR code, open the access log and
export it as CSV, and watch a controller go offline when its simulator is stopped. A screenshot of every screen is
saved under ``test-artifacts/panel/`` (or ``$E2E_ARTIFACTS``).
"""

from __future__ import annotations

import base64
import csv
import io
import os
import re
import shutil
from pathlib import Path

import pytest
from demo_process import REPO, Demo, running_demo

from hub.residents.qr import read_pass_token

pytestmark = pytest.mark.usefixtures("socket_enabled")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SHARED_FACES = REPO.parent / "shared" / "faces"
ARTEFACTS = Path(os.environ.get("E2E_ARTIFACTS", REPO / "test-artifacts" / "panel"))
TIMEOUT_MS = 60_000


def _need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    message = "Debian's chromium is not installed (scripts/system-packages.sh installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def tid(name: str, extra: str = "") -> str:
    """A selector for the panel's test hooks (Playwright's CSS engine pierces the shadow roots)."""
    return f'[data-testid="{name}"]{extra}'


@pytest.fixture
def photos() -> tuple[Path, Path]:
    """A real photo of someone the demo has not enrolled (from ../shared/faces/lfw-dev: a photo of an enrolled
    demo resident would be flagged as close to them, see test_panel_enrolment.py) and a photo with two people."""
    _need_chromium()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTEFACTS.glob("*.png"):
        old.unlink()
    stranger = SHARED_FACES / "lfw-dev" / "images" / "Abdullah_Gul" / "Abdullah_Gul_0001.jpg"
    return stranger, SHARED_FACES / "scenes" / "two_people.jpg"


async def test_managers_panel_in_chromium(tmp_path: Path, photos: tuple[Path, Path]) -> None:
    """A property manager's session in the panel, screen by screen."""
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=30_000)
    good_photo, two_people = photos

    async with running_demo(tmp_path / "demo") as demo, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        page_errors: list[str] = []
        page.on("pageerror", lambda err: page_errors.append(str(err)))
        console: list[str] = []  # printed when the test fails, with the page errors
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))

        async def shot(name: str) -> None:
            await page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)

        try:
            # Home Assistant's own login page, with the owner account the demo created.
            await page.goto(f"{demo.base}/smart-community")
            await page.locator("input[name=username]").fill(demo.username)
            await page.locator("input[name=password]").fill(demo.password)
            await shot("00-login")
            await page.locator("input[name=password]").press("Enter")
            await page.wait_for_url("**/smart-community**")
            await expect(page.locator(tid("tab-residents"))).to_be_visible()
            await expect(page.locator(tid("resident-row")).first).to_be_visible()  # the demo's five residents
            await shot("01-residents")

            # Add a resident.
            await page.locator(tid("resident-add")).click()
            await page.locator(tid("resident-form-id")).fill("r-e2e")
            await page.locator(tid("resident-form-name")).fill("Wang Fang")
            await page.locator(tid("resident-form-building")).fill("7")
            await page.locator(tid("resident-form-unit")).fill("702")
            await shot("02-resident-form")
            await page.locator(tid("resident-form-save")).click()
            # Adding ends on the new resident's page.
            await expect(page.locator(tid("resident-detail")).first).to_contain_text("r-e2e")

            # Consent on the community's consent text (none yet: written from the resident's page), then
            # enrolment: one good photo, one refused with its reason.
            await page.locator(tid("consent-no-texts")).wait_for()
            await page.locator('[data-action="consent-texts"][data-back="resident:r-e2e"]').click()
            await page.locator(tid("consent-text-title")).fill("Gate face recognition")
            await page.locator(tid("consent-text-body")).fill("Face verification at the community gates")
            await page.locator(tid("consent-text-save")).click()
            await expect(page.locator(tid("consent-text-row"))).to_have_count(1)
            await page.locator('[data-action="consent-texts-back"]').click()
            await page.locator(tid("consent-record")).click()
            await expect(page.locator(tid("consent-state"))).to_contain_text("Consent given")
            await page.locator(tid("face-photos")).set_input_files([str(good_photo), str(two_people)])
            results = page.locator(tid("face-result"))
            await expect(results).to_have_count(2)
            await expect(page.locator(tid("face-result", '[data-accepted="true"]'))).to_have_count(1)
            refused = page.locator(tid("face-result", '[data-accepted="false"]'))
            await expect(refused).to_contain_text("more than one face")
            await shot("03-enrolment-checked")
            await page.locator(tid("face-enrol")).click()
            await expect(page.locator(tid("face-count"))).to_contain_text("1")
            await shot("04-enrolled")

            # A visitor pass with its QR code on screen, readable by the gate camera's decoder.
            await page.locator(tid("tab-credentials")).click()
            await page.locator(tid("pass-visitor")).fill("Aunt Mei")
            await page.locator(tid("pass-issued-by")).select_option("r-e2e")
            await page.locator(tid("pass-door")).first.check()
            await page.locator(tid("pass-issue")).click()
            qr = page.locator(tid("pass-qr"))
            await expect(qr).to_be_visible()
            src = await qr.get_attribute("src") or ""
            assert src.startswith("data:image/png;base64,")
            assert read_pass_token(base64.b64decode(src.split(",", 1)[1])) is not None
            async with page.expect_download() as qr_download:
                await page.locator(tid("pass-qr-download")).click()
            assert (await (await qr_download.value).path()).read_bytes().startswith(b"\x89PNG")
            await shot("05-visitor-pass")

            # The access log: an unknown card at door 1, seen in the log and in the CSV export.
            await demo.console("card 1 99887766")
            await _wait_for_access_event(demo, "event.demo_dc_01_door_1_access", "denied")
            await page.locator(tid("tab-access-log")).click()
            await page.locator(tid("log-result")).select_option("denied")
            rows = page.locator(tid("log-row"))
            for _ in range(40):  # the decision is journalled just after its event fires: apply again, as a user would
                await page.locator(tid("log-apply")).click()
                await page.wait_for_timeout(250)
                if await rows.count():
                    break
            await expect(rows.first).to_contain_text("Card not known")  # the reason in words (unknown_card)
            await shot("06-access-log")
            async with page.expect_download() as csv_download:
                await page.locator(tid("log-export")).click()
            exported = (await (await csv_download.value).path()).read_text()
            exported_rows = list(csv.DictReader(io.StringIO(exported)))
            assert exported_rows and all(r["result"] == "denied" for r in exported_rows)
            assert any(r["reason"] == "unknown_card" for r in exported_rows)

            # Devices: controller 2 online, then offline once its simulator is stopped.
            await page.locator(tid("tab-devices")).click()
            controller = page.locator(tid("device-row", '[data-device-id="DEMO-DC-02"]'))
            await expect(controller).to_have_attribute("data-online", "true")
            await shot("07-devices-online")
            await demo.console("link 2 down")
            await expect(controller).to_have_attribute("data-online", "false", timeout=TIMEOUT_MS)
            await shot("08-devices-offline")

            # The gate camera's link is cut: its background probe finds it down, nobody asks it for a frame.
            camera = page.locator(tid("device-row")).filter(has_text="North gate camera")
            await expect(camera).to_have_attribute("data-online", "true")
            await expect(camera).to_contain_text("North gate camera")  # the device's name, not its id or URL
            await expect(camera).not_to_contain_text("http")  # a hand-added camera's id is its snapshot URL
            await demo.console("camera link down")
            await expect(camera).to_have_attribute("data-online", "false", timeout=TIMEOUT_MS)

            # The chart: each device's timeline has its outage drawn; the daily rate stands against the target.
            chart = page.locator(tid("health-chart"))
            await expect(chart).to_be_visible()
            timeline = chart.locator(tid("timeline-row", '[data-device-id="DEMO-DC-02"]'))
            await expect(timeline.locator(tid("timeline-down")).first).to_be_attached(timeout=TIMEOUT_MS)
            await expect(timeline).to_contain_text("outage")
            await expect(chart.locator(tid("day-bar")).last).to_have_attribute("data-percent", re.compile(r"^\d"))
            await expect(chart.locator(tid("target-line"))).to_have_count(1)
            camera_timeline = chart.locator(tid("timeline-row")).filter(has_text="North gate camera")
            await expect(camera_timeline.locator(tid("timeline-down")).first).to_be_attached(timeout=TIMEOUT_MS)

            # The problem list: the controller's outage is open; the manager acknowledges it with a note.
            problem = page.locator(tid("problem-row", '[data-state="open"]')).filter(has_text="DEMO-DC-02")
            await expect(problem).to_have_count(1)
            problem_id = await problem.get_attribute("data-problem-id")
            problem = page.locator(tid("problem-row", f'[data-problem-id="{problem_id}"]'))
            await expect(problem).to_have_attribute("data-state", "open")
            await problem.locator(tid("problem-note-input")).fill("Electrician called: the switch lost power")
            await problem.locator(tid("problem-ack")).click()
            await expect(problem).to_have_attribute("data-state", "acknowledged")
            await expect(problem.locator(tid("problem-note"))).to_contain_text("Electrician called")
            await shot("08b-devices-chart-and-problems")

            # Both come back: the problems resolve themselves, with their time to repair.
            await demo.console("link 2 up")
            await demo.console("camera link up")
            await expect(problem).to_have_attribute("data-state", "resolved", timeout=TIMEOUT_MS)
            await expect(camera).to_have_attribute("data-online", "true", timeout=TIMEOUT_MS)

            # Uplink and audit.
            await page.locator(tid("tab-uplink")).click()
            await expect(page.locator(tid("uplink-policy"))).to_contain_text("resident_ref")
            await shot("09-uplink")
            await page.locator(tid("tab-audit")).click()
            await expect(page.locator(tid("audit-row")).first).to_be_visible()
            await page.locator(tid("audit-verify")).click()
            await expect(page.locator(tid("audit-verify-result"))).to_have_attribute("data-ok", "true")
            await shot("10-audit")

            # A narrow window (a phone): still usable, nothing wider than the screen.
            await page.set_viewport_size({"width": 360, "height": 740})
            await page.locator(tid("tab-residents")).click()
            await expect(page.locator(tid("resident-row")).first).to_be_visible()
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, width
            await shot("11-narrow-residents")
        except BaseException:
            print("page errors:", *page_errors, "console:", *console[-40:], sep="\n  ")
            raise
        finally:
            await shot("99-last-screen")
            await browser.close()
        assert not page_errors, page_errors


async def _wait_for_access_event(demo: Demo, entity_id: str, event_type: str) -> None:
    """Wait (through Home Assistant's REST API) until the door's access event entity reports the decision."""
    import asyncio

    import aiohttp

    headers = {"Authorization": f"Bearer {demo.token}"}
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            async with session.get(f"{demo.base}/api/states/{entity_id}", headers=headers) as response:
                if response.status == 200 and (await response.json())["attributes"].get("event_type") == event_type:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{entity_id} never reported {event_type}")


PANEL_TABS = ("residents", "alarms", "credentials", "access-log", "devices", "uplink", "audit", "import")
FRONTEND = REPO / "custom_components" / "smart_community" / "frontend"
STATIC_PATH = "/smart_community_static/"


async def test_every_panel_module_loads_in_chromium(tmp_path: Path) -> None:
    """The panel's ES modules load in a real browser, from one versioned path: every tab is visited, and a
    module that is missing, fails to load or throws (a console error, an uncaught error, a failed or refused
    request of the panel's files) fails the test."""
    from playwright.async_api import Request, Response, async_playwright, expect

    _need_chromium()
    expect.set_options(timeout=30_000)
    async with running_demo(tmp_path / "demo") as demo, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 860})
        page.set_default_timeout(TIMEOUT_MS)
        problems: list[str] = []
        loaded: dict[str, int] = {}  # the panel's files -> HTTP status
        page.on("pageerror", lambda err: problems.append(f"uncaught: {err}"))

        def on_console(message: object) -> None:
            from playwright.async_api import ConsoleMessage

            assert isinstance(message, ConsoleMessage)
            url = message.location.get("url", "") if message.location else ""
            # Home Assistant's own frontend may complain offline (brand icons); ours must never.
            if message.type == "error" and (STATIC_PATH in url or "smart-community" in message.text
                                            or STATIC_PATH in message.text):
                problems.append(f"console: {message.text} ({url})")

        def on_response(response: Response) -> None:
            if STATIC_PATH in response.url:
                loaded[response.url] = response.status
                if response.status >= 400:
                    problems.append(f"HTTP {response.status}: {response.url}")

        def on_failed(request: Request) -> None:
            if STATIC_PATH in request.url:
                problems.append(f"request failed: {request.url} {request.failure}")

        page.on("console", on_console)
        page.on("response", on_response)
        page.on("requestfailed", on_failed)

        try:
            await page.goto(f"{demo.base}/smart-community")
            await page.locator("input[name=username]").fill(demo.username)
            await page.locator("input[name=password]").fill(demo.password)
            await page.locator("input[name=password]").press("Enter")
            await page.wait_for_url("**/smart-community**")
            await expect(page.locator(tid("tab-residents"))).to_be_visible()
            assert await page.evaluate("!!customElements.get('smart-community-panel')")
            for tab in PANEL_TABS:
                await page.locator(tid(f"tab-{tab}")).click()
                await expect(page.locator(tid(f"tab-{tab}"))).to_have_attribute("aria-selected", "true")
                await expect(page.locator("#view .loading")).to_have_count(0)  # the tab's data arrived and rendered
            await page.locator(tid("tab-residents")).click()
            await page.locator(tid("resident-row")).first.click()  # a resident's page: consent and enrolment
            await expect(page.locator(tid("consent-state"))).to_be_visible()
        except BaseException:
            print("problems:", *problems, "loaded:", *loaded.items(), sep="\n  ")
            raise
        finally:
            await browser.close()

    assert not problems, problems
    assert loaded and all(status in (200, 304) for status in loaded.values()), loaded
    bases = {url.split(STATIC_PATH, 1)[1].split("/", 1)[0] for url in loaded}
    assert len(bases) == 1, bases  # one version for every module
    served = {url.split(STATIC_PATH, 1)[1].split("/", 1)[1].split("?", 1)[0] for url in loaded}
    assert served == {p.relative_to(FRONTEND).as_posix() for p in FRONTEND.rglob("*.js")}
