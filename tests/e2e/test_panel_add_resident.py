"""Adding a resident and reading their page in a real browser, from the panel alone, start to finish: Debian's
Chromium (headless, driven by Playwright) on a real Home Assistant started the way `make run` starts it (see
test_panel_browser.py), with the demo's simulated door controller and its console.

* the manager writes the community's consent text, then edits it (a new version);
* in *Add resident* a name typed as the id is refused once, in words, beside the field (not in a banner too);
  photos cannot be chosen until a consent text is; the id is left empty (generated); card, PIN, consent and a real
  photo are given in the same form, and the flow ends on the new resident's page, which shows the card, the PIN's
  keypad code, the consent text signed, the enrolled face, their doors and hours (the demo's rule: every door, any
  time) and, after the card is swiped at the simulated North gate, that access;
* a resident added without consent: enrolling photos is unavailable on their page, with the reason, until consent
  is recorded there from the consent text.

Screenshots are kept under ``test-artifacts/panel/tasks/`` (``$E2E_ARTIFACTS/tasks``), named ``task-add-*.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from demo_process import running_demo
from test_panel_browser import SHARED_FACES, tid
from test_panel_manager_tasks import _session

pytestmark = pytest.mark.usefixtures("socket_enabled")

TEXT = "Face recognition at the community's gates. Only face templates are kept, while you live here."
EDITED = TEXT + " You can withdraw at any time; the templates are then deleted."
CARD = "40001234"
PHOTO = sorted((SHARED_FACES / "lfw-dev" / "images" / "Abdullah_Gul").glob("*.jpg"))[0]


async def _write_consent_text(page: Any, artefacts: Path) -> None:
    from playwright.async_api import expect

    await page.locator(tid("consent-texts-open")).click()
    await expect(page.locator(tid("consent-texts-empty"))).to_be_visible()
    await page.locator(tid("consent-text-title")).fill("Gate face recognition")
    await page.locator(tid("consent-text-body")).fill(TEXT)
    await page.locator(tid("consent-text-save")).click()
    row = page.locator(tid("consent-text-row"))
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Gate face recognition")
    await row.locator(tid("consent-text-edit")).click()
    await page.locator(tid("consent-text-body")).fill(EDITED)
    await page.locator(tid("consent-text-save")).click()
    await expect(row.locator('td[data-label="Version"]')).to_have_text("2")
    await expect(row).to_contain_text("withdraw at any time")
    await page.screenshot(path=str(artefacts / "task-add-1-consent-text.png"), full_page=True)
    await page.locator('[data-action="consent-texts-back"]').click()


async def test_a_resident_is_added_in_one_flow_and_their_page_shows_doors_and_access(
    tmp_path: Path, artefacts: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=30_000)
    async with running_demo(tmp_path / "demo") as demo, async_playwright() as playwright:
        browser, page, errors = await _session(playwright, demo)
        try:
            await _write_consent_text(page, artefacts)
            await page.locator(tid("resident-add")).click()
            await page.locator(tid("resident-form-name")).fill("Abdullah Gul")
            await page.locator(tid("resident-form-id")).fill("Abdullah Gul")  # a name typed as an id
            await page.locator(tid("resident-form-save")).click()
            form = page.locator('form[data-form="resident"]')
            await expect(form.locator(".err")).to_have_count(1)
            await expect(form.locator(".err")).to_contain_text("Resident id 'Abdullah Gul' contains a space")
            await expect(form.locator(".err")).to_contain_text("not a name")
            await expect(page.locator(tid("resident-form-id"))).to_have_attribute("aria-invalid", "true")
            await expect(page.locator(tid("error-banner"))).to_have_count(0)  # said once, beside the field
            await expect(page.get_by_text("contains a space")).to_have_count(1)
            await page.screenshot(path=str(artefacts / "task-add-2-id-refused.png"), full_page=True)

            # Photos wait for consent, and say so.
            photos = page.locator(tid("resident-form-photos"))
            await expect(photos).to_be_disabled()
            await expect(page.locator(tid("resident-form-photo-reason"))).to_contain_text("consent text")
            await page.locator(tid("resident-form-id")).fill("")  # generated
            await expect(form.locator(".err")).to_have_count(0)  # the error goes with the change
            await page.locator(tid("resident-form-building")).fill("2")
            await page.locator(tid("resident-form-unit")).fill("204")
            await page.locator(tid("resident-form-card")).fill(CARD)
            await page.locator(tid("resident-form-pin")).fill("482913")
            consent = page.locator(tid("resident-form-consent"))
            await consent.select_option(label="Consents to “Gate face recognition” (version 2)")
            await expect(page.locator(tid("resident-form-consent-text"))).to_contain_text("withdraw at any time")
            await expect(photos).to_be_enabled()
            await photos.set_input_files(str(PHOTO))
            await expect(page.locator(tid("resident-form-photo", '[data-accepted="true"]'))).to_have_count(1)
            await page.screenshot(path=str(artefacts / "task-add-3-form.png"), full_page=True)
            await page.locator(tid("resident-form-save")).click()

            # The flow ends on the new resident's page.
            detail = page.locator(tid("resident-detail"))
            await expect(detail).to_contain_text("Abdullah Gul")
            resident_id = await page.locator(tid("resident-detail")).get_attribute("data-resident-id")
            assert resident_id is not None and resident_id.startswith("R-"), resident_id
            await expect(page.locator(tid("resident-credentials"))).to_contain_text("ending 1234")
            await expect(page.locator(tid("resident-credentials"))).to_contain_text("keypad code")
            await expect(page.locator(tid("consent-state"))).to_have_text("Consent given")
            await expect(page.locator(tid("consent-scope-text"))).to_have_text(EDITED)
            await expect(page.locator(tid("face-count"))).to_contain_text("1 face template")
            await expect(page.locator(tid("face-photos"))).to_be_enabled()
            north = page.locator(tid("resident-door-row")).filter(has_text="North gate")
            await expect(north).to_have_count(1)
            await expect(north).to_contain_text("every day, all day")
            await expect(page.locator(tid("resident-vehicles"))).to_contain_text("0 vehicles")
            await expect(page.locator(tid("resident-recent-none"))).to_be_visible()
            assert not await page.locator(tid("error-banner")).count()
            await page.screenshot(path=str(artefacts / "task-add-4-resident-page.png"), full_page=True)

            # The card works at the North gate, and the page shows that access.
            await demo.console(f"card 1 {CARD}")
            recent = page.locator(tid("resident-recent"))
            for _ in range(40):
                await page.locator('[data-action="res-back"]').first.click()
                await page.locator(tid("resident-search")).fill("Abdullah")
                await page.locator(tid("resident-row", f'[data-resident-id="{resident_id}"]')).click()
                await expect(page.locator(tid("resident-access")).locator("h3")).to_be_visible()
                if await recent.count():
                    break
                await page.wait_for_timeout(500)
            await expect(recent).to_contain_text("North gate")
            await expect(recent).to_contain_text("granted")
            await page.screenshot(path=str(artefacts / "task-add-5-recent-access.png"), full_page=True)
        finally:
            await browser.close()
        assert not errors, errors


async def test_enrolment_waits_for_consent_and_says_why(tmp_path: Path, artefacts: Path) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=30_000)
    async with running_demo(tmp_path / "demo") as demo, async_playwright() as playwright:
        browser, page, errors = await _session(playwright, demo)
        try:
            await _write_consent_text(page, artefacts)
            await page.locator(tid("resident-add")).click()
            await page.locator(tid("resident-form-name")).fill("Rosa Park")
            await page.locator(tid("resident-form-save")).click()
            await expect(page.locator(tid("consent-state"))).to_have_text("No consent")
            photos = page.locator(tid("face-photos"))
            await expect(photos).to_be_disabled()
            await expect(page.locator(tid("face-photos-reason"))).to_contain_text("Record consent first")
            await expect(page.locator(tid("face-enrol"))).to_have_count(0)
            await page.screenshot(path=str(artefacts / "task-add-6-no-consent.png"), full_page=True)

            await page.locator(tid("consent-text-choice")).select_option(label="Gate face recognition (version 2)")
            await page.locator(tid("consent-record")).click()
            await expect(page.locator(tid("consent-state"))).to_have_text("Consent given")
            await expect(page.locator(tid("consent-scope-text"))).to_have_text(EDITED)
            await expect(photos).to_be_enabled()
            await expect(page.locator(tid("face-photos-reason"))).to_have_text("")
            await photos.set_input_files(str(PHOTO))
            await expect(page.locator(tid("face-enrol"))).to_be_enabled()
            await page.screenshot(path=str(artefacts / "task-add-7-consent-recorded.png"), full_page=True)
        finally:
            await browser.close()
        assert not errors, errors
