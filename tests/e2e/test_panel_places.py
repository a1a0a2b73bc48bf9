"""Places by name and the access log, done from the panel alone in a real browser: Debian's Chromium (headless,
driven by Playwright) on a real Home Assistant started the way `make run` starts it (see test_panel_browser.py).

* a manager finds a resident's entries by name with "Today" (a name nobody has is said so), reads a denial's
  reason in words, watches a new entry arrive with "Live" on, and downloads the CSV (times in the community's
  time zone with the offset, door and resident names beside the ids);
* a card looked up by its number names its holder; the Access rules tab shows doors by name and a resident's
  doors and hours;
* a door renamed in Home Assistant (the device's name, as its device page sets it) is called so in the panel and
  the CSV; the demo's doors are named ("North gate", "Garden door").

Screenshots are kept under ``test-artifacts/panel/tasks/`` (``$E2E_ARTIFACTS/tasks``), named ``task-places-*.png``
and ``task-log-*.png``.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from demo_process import running_demo
from test_panel_browser import tid
from test_panel_manager_tasks import _session

from devkit.demo.faces import demo_faces_dir
from devkit.demo.residents import FIRST_CARD

pytestmark = pytest.mark.usefixtures("socket_enabled")

FIRST_DOOR = "DEMO-DC-01-door0"


def _first_resident() -> str:
    """The name of the demo's first resident (who holds card FIRST_CARD), as the demo adds them."""
    faces = demo_faces_dir()
    if faces is None:
        pytest.skip("no demo faces: the demo adds no residents")
    return sorted(p.name for p in faces.iterdir() if p.is_dir())[0].replace("_", " ")


async def _csv(page: Any) -> list[dict[str, str]]:
    async with page.expect_download() as download:
        await page.locator(tid("log-export")).click()
    text = (await (await download.value).path()).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


async def _call_ws(page: Any, message: dict[str, Any]) -> Any:
    """A websocket command on the browser's own Home Assistant connection (what HA's pages send)."""
    return await page.evaluate("(m) => document.querySelector('home-assistant').hass.callWS(m)", message)


async def test_a_residents_entries_by_name_today_with_reasons_live_and_csv(tmp_path: Path, artefacts: Path) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=30_000)
    name = _first_resident()
    async with running_demo(tmp_path / "demo") as demo, async_playwright() as playwright:
        browser, page, errors = await _session(playwright, demo)
        try:
            await demo.console(f"card 1 {FIRST_CARD}")  # the resident's own card at the North gate: granted
            await demo.console("card 2 99887766")  # an unknown card at the Garden door: denied
            await page.locator(tid("tab-access-log")).click()
            rows = page.locator(tid("log-row"))
            await _wait_rows(page, rows, 2)

            # A name nobody has: said so, instead of an empty list.
            await page.locator(tid("log-person")).fill("Nobody Called This")
            await page.locator(tid("log-apply")).click()
            await expect(page.locator(tid("log-no-person"))).to_contain_text("No resident called “Nobody Called This”")
            await page.screenshot(path=str(artefacts / "task-log-1-no-such-person.png"), full_page=True)

            # The resident's name and "Today": their entry, at the North gate, with the reason in words.
            await page.locator(tid("log-person")).fill(name)
            await page.locator(tid("log-range-today")).click()
            await expect(page.locator(tid("log-person-resolved"))).to_contain_text(name)
            await expect(rows).to_have_count(1)
            await expect(rows.first).to_contain_text(name)
            await expect(rows.first).to_contain_text("North gate")
            await expect(rows.first).to_contain_text("Granted")
            assert await page.locator(tid("log-since")).input_value()  # the range filled "Since"
            await page.screenshot(path=str(artefacts / "task-log-2-by-name-today.png"), full_page=True)

            # Everyone's denials: the unknown card's reason in words, not its code.
            await page.locator(tid("log-person")).fill("")
            await page.locator(tid("log-result")).select_option("denied")
            await page.locator(tid("log-apply")).click()
            await expect(rows).to_have_count(1)
            await expect(rows.first).to_contain_text("Card not known")
            await expect(rows.first).to_contain_text("Garden door")
            await expect(rows.first).not_to_contain_text("unknown_card")

            # Live: a new denial appears without pressing anything.
            await page.locator(tid("log-live")).check()
            await demo.console("card 1 11112222")
            await expect(rows).to_have_count(2, timeout=30_000)
            await page.screenshot(path=str(artefacts / "task-log-3-reasons-live.png"), full_page=True)
            await page.locator(tid("log-live")).uncheck()

            # The CSV: the same rows, times in the community's zone with the offset, names beside the ids.
            await page.locator(tid("log-result")).select_option("")
            await page.locator(tid("log-apply")).click()
            await expect(rows).to_have_count(3)
            exported = await _csv(page)
            assert len(exported) == 3
            zone = (await _call_ws(page, {"type": "get_config"}))["time_zone"]
            from zoneinfo import ZoneInfo

            for row in exported:
                moment = datetime.fromisoformat(row["occurred_at"])
                assert moment.utcoffset() == moment.astimezone(ZoneInfo(zone)).utcoffset(), row
                assert not row["occurred_at"].endswith("Z")
            granted = next(r for r in exported if r["result"] == "granted")
            assert granted["door"] == FIRST_DOOR and granted["door_name"] == "North gate"
            assert granted["resident_name"] == name and granted["reason_text"] == "Granted"
            assert {r["reason_text"] for r in exported if r["result"] == "denied"} == {"Card not known"}
        finally:
            await browser.close()
        assert not errors, errors


async def _wait_rows(page: Any, rows: Any, count: int) -> None:
    for _ in range(60):  # journalling runs after the event; a manager presses Apply again
        if await rows.count() >= count:
            return
        await page.wait_for_timeout(500)
        await page.locator(tid("log-apply")).click()
    raise AssertionError(f"fewer than {count} rows in the access log")


async def test_a_door_renamed_in_home_assistant_is_named_so_in_the_panel_and_csv(
    tmp_path: Path, artefacts: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=30_000)
    async with running_demo(tmp_path / "demo") as demo, async_playwright() as playwright:
        browser, page, errors = await _session(playwright, demo)
        try:
            await demo.console(f"card 1 {FIRST_CARD}")
            await page.locator(tid("tab-access-log")).click()
            rows = page.locator(tid("log-row"))
            await _wait_rows(page, rows, 1)
            await expect(rows.first).to_contain_text("North gate")  # the demo names its doors
            await page.screenshot(path=str(artefacts / "task-places-1-demo-names.png"), full_page=True)

            # The manager renames the door's device in Home Assistant and puts it in an area (the device page
            # sends these same registry commands).
            devices = await _call_ws(page, {"type": "config/device_registry/list"})
            device = next(d for d in devices if ["smart_community", FIRST_DOOR] in d["identifiers"])
            area = await _call_ws(page, {"type": "config/area_registry/create", "name": "Front courtyard"})
            await _call_ws(page, {"type": "config/device_registry/update", "device_id": device["id"],
                                  "name_by_user": "Main entrance", "area_id": area["area_id"]})

            await page.reload()
            await expect(page.locator(tid("tab-residents"))).to_be_visible()
            await page.locator(tid("tab-access-log")).click()
            await expect(rows.first).to_contain_text("Main entrance")
            await expect(rows.first).to_contain_text("Front courtyard")
            await expect(page.locator(tid("log-door"))).to_contain_text("Main entrance (Front courtyard)")
            await page.screenshot(path=str(artefacts / "task-places-2-renamed.png"), full_page=True)
            exported = await _csv(page)
            assert {(r["door"], r["door_name"]) for r in exported} == {(FIRST_DOOR, "Main entrance")}
        finally:
            await browser.close()
        assert not errors, errors


async def test_a_card_by_its_number_and_the_access_rules_by_name(tmp_path: Path, artefacts: Path) -> None:
    """A card looked up by its number names its holder and leads to their entries; the Access rules tab shows the
    demo's rule with its doors by name, and the doors and hours of a resident chosen there."""
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=30_000)
    name = _first_resident()
    async with running_demo(tmp_path / "demo") as demo, async_playwright() as playwright:
        browser, page, errors = await _session(playwright, demo)
        try:
            await demo.console(f"card 2 {FIRST_CARD}")  # at the Garden door
            await page.locator(tid("tab-access-log")).click()
            await _wait_rows(page, page.locator(tid("log-row")), 1)
            await page.locator(tid("card-lookup-number")).fill(str(FIRST_CARD))
            await page.locator(tid("card-lookup")).click()
            found = page.locator(tid("card-lookup-found"))
            await expect(found).to_contain_text(name)
            await expect(found).to_contain_text(f"Card ending {str(FIRST_CARD)[-4:]}")
            await expect(page.locator(tid("card-lookup-number"))).to_have_value("")  # the number is not kept
            await found.locator(tid("card-lookup-entries")).click()
            await expect(page.locator(tid("log-person-resolved"))).to_contain_text(name)
            await expect(page.locator(tid("log-row")).first).to_contain_text("Garden door")
            await page.screenshot(path=str(artefacts / "task-log-4-card-lookup.png"), full_page=True)

            await page.locator(tid("tab-access-rules")).click()
            rule = page.locator(tid("rule-row", '[data-rule-id="residents-all-doors"]'))
            await expect(rule.locator(tid("rule-doors"))).to_contain_text("North gate")
            await expect(rule.locator(tid("rule-doors"))).to_contain_text("Garden door")
            await expect(rule).to_contain_text("Every day")
            options = page.locator(tid("rules-resident") + " option:not([value=''])")
            await expect(options.first).to_be_attached()
            await page.locator(tid("rules-resident")).select_option(await options.first.get_attribute("value"))
            await expect(page.locator(tid("resident-rule")).first).to_contain_text("North gate")
            await page.screenshot(path=str(artefacts / "task-places-3-access-rules.png"), full_page=True)
        finally:
            await browser.close()
        assert not errors, errors
