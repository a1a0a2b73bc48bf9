"""The Vehicles tab in a real browser (Debian's Chromium, headless, driven by Playwright) on a real Home Assistant
started as `make run` starts it (see test_panel_browser.py): a manager registers a resident's car, a monthly
vehicle and a visitor's car invited by a resident, revokes the invitation, puts a plate on the black list and takes
it off again, all from the panel alone; each step shows in the registry. Screenshots: ``task-vehicles-*.png``
under ``test-artifacts/panel/tasks/``."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from demo_process import running_demo
from test_panel_browser import tid
from test_panel_manager_tasks import _session

from devkit.demo.residents import resident_id

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_a_manager_registers_invites_and_lists_vehicles_from_the_panel(tmp_path: Path, artefacts: Path) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=30_000)
    resident = resident_id("John_Simm")
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    next_month = (datetime.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    now = datetime.now().strftime("%Y-%m-%dT%H:%M")
    async with running_demo(tmp_path / "demo") as demo, async_playwright() as playwright:
        browser, page, errors = await _session(playwright, demo)
        try:
            await page.locator(tid("tab-vehicles")).click()
            registry = page.locator(tid("vehicle-registry"))
            await expect(registry).to_contain_text("Residents' vehicles")

            add = page.locator('form[data-form="veh-add"]')
            await add.locator("input[name=resident_id]").fill(resident)
            await add.locator("input[name=plate]").fill("皖A7XG66")
            await add.locator("button[type=submit]").click()
            await expect(registry.locator("tr", has_text="皖A7XG66")).to_contain_text(resident)

            monthly = page.locator('form[data-form="veh-monthly"]')
            await monthly.locator("input[name=plate]").fill("皖A12345")
            await monthly.locator("input[name=holder]").fill("Bakery van")
            await monthly.locator("input[name=valid_from]").fill(now)
            await monthly.locator("input[name=valid_until]").fill(next_month)
            await monthly.locator("button[type=submit]").click()
            await expect(registry.locator("tr", has_text="皖A12345")).to_contain_text("Bakery van")

            invite = page.locator('form[data-form="veh-invite"]')
            await invite.locator("input[name=resident_id]").fill(resident)
            await invite.locator("input[name=plate]").fill("皖B54321")
            await invite.locator("input[name=valid_until]").fill(tomorrow)
            await invite.locator("button[type=submit]").click()
            invited = registry.locator("tr", has_text="皖B54321")
            await expect(invited.locator('[data-action="veh-revoke"]')).to_have_count(1)
            await page.screenshot(path=str(artefacts / "task-vehicles-1-registered.png"), full_page=True)
            await invited.locator('[data-action="veh-revoke"]').click()
            await expect(invited.locator('[data-action="veh-revoke"]')).to_have_count(0)
            await expect(invited.locator('td[data-label="Revoked"]')).not_to_have_text("—")

            listing = page.locator('form[data-form="veh-list"]')
            await listing.locator("input[name=plate]").fill("皖C00001")
            await listing.locator("select[name=list]").select_option("black")
            await listing.locator("input[name=note]").fill("rammed the barrier")
            await listing.locator("button[type=submit]").click()
            listed = registry.locator("tr", has_text="皖C00001")
            await expect(listed).to_contain_text("black")
            await page.screenshot(path=str(artefacts / "task-vehicles-2-listed.png"), full_page=True)
            await listed.locator('[data-action="veh-unlist"]').click()
            await expect(registry.locator("tr", has_text="皖C00001")).to_have_count(0)

            car = registry.locator("tr", has_text="皖A7XG66")
            await car.locator('[data-action="veh-remove"]').click()
            await expect(registry.locator("tr", has_text="皖A7XG66")).to_have_count(0)
            assert await page.locator(tid("error")).count() == 0 or not await page.locator(tid("error")).is_visible()
            assert errors == [], errors
        finally:
            await browser.close()
