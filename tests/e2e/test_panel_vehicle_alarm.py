"""A blacklisted car in a real browser (Debian's Chromium, headless, driven by Playwright) on the real demo: the
console's `car entry <blacklisted plate>` makes the entry camera push it; the panel's Alarms tab lists a
"Blacklisted vehicle" alarm at the lane with the plate (the panel is admin-only), the tab's badge counts it, and
the manager acknowledges it with a note and closes it. Screenshot: ``task-vehicle-alarm.png`` under
``test-artifacts/panel/tasks/``."""

from __future__ import annotations

from pathlib import Path

import pytest
from demo_process import read_until, running_demo
from test_panel_browser import tid
from test_panel_manager_tasks import _session

pytestmark = pytest.mark.usefixtures("socket_enabled")
BLACK_PLATE = "沪C44444"  # the demo's blacklisted plate


async def test_a_blacklisted_car_is_an_alarm_with_its_plate_in_the_panel(tmp_path: Path, artefacts: Path) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=30_000)
    async with running_demo(tmp_path / "demo") as demo, async_playwright() as playwright:
        browser, page, errors = await _session(playwright, demo)
        try:
            assert demo.process.stdout is not None
            await demo.console(f"car entry {BLACK_PLATE}")
            await read_until(demo.process.stdout, f"entry: {BLACK_PLATE} denied (blacklisted)", 60, demo.output)
            await page.locator(tid("tab-alarms")).click()
            alarm = page.locator(tid("alarm-row", '[data-alarm="blacklisted_vehicle"][data-state="open"]'))
            for _ in range(60):
                if await alarm.count():
                    break
                await page.wait_for_timeout(500)
                await page.locator(tid("tab-residents")).click()
                await page.locator(tid("tab-alarms")).click()
            await expect(alarm).to_have_count(1)
            await expect(alarm).to_contain_text("Blacklisted vehicle")
            await expect(alarm).to_contain_text("Car park carpark, main lane 1")
            await expect(alarm.locator(tid("alarm-subject"))).to_have_text(f"Plate {BLACK_PLATE}")
            await expect(page.locator(tid("alarm-badge"))).to_be_visible()
            await page.screenshot(path=str(artefacts / "task-vehicle-alarm.png"), full_page=True)

            await alarm.locator(tid("alarm-note-input")).fill("Guard called the police")
            await alarm.locator(tid("alarm-ack")).click()
            row = page.locator(tid("alarm-row", '[data-alarm="blacklisted_vehicle"]'))
            await expect(row).to_have_attribute("data-state", "acknowledged")
            await row.locator(tid("alarm-close")).click()
            await expect(row).to_have_count(0)
        finally:
            await browser.close()
        assert not errors, errors
