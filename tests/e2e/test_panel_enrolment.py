"""Enrolment that checks who, done from the panel alone in a real browser: Debian's Chromium (headless, driven by
Playwright) on a real Home Assistant started the way `make run` starts it (see test_panel_browser.py), with the
demo's residents enrolled from their first three photos (`demo/faces`, the same people as
``../shared/faces/community``).

* New photos for John Savage, one of them John Simm's: that photo is flagged as not the same person as the other
  photos nor John Savage's enrolled face, and as looking like John Simm; enrolling is blocked, with the reason,
  until it is removed. Removing it and confirming enrols the other two.
* A new resident, with consent, offered a photo of John Schneider (enrolled): flagged as looking like him (the
  gates would take this face for him); the manager ticks "Enrol anyway", enrols, and the audit log shows the choice
  with who made it.

Screenshots are kept under ``test-artifacts/panel/tasks/`` (``$E2E_ARTIFACTS/tasks``), named
``task-enrol-*.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from demo_process import running_demo
from test_panel_browser import tid
from test_panel_manager_tasks import _session

from devkit.demo.faces import demo_faces_dir
from devkit.demo.residents import ENROL_PHOTOS

pytestmark = pytest.mark.usefixtures("socket_enabled")


def _photos(person: str) -> list[Path]:
    faces = demo_faces_dir()
    if faces is None:
        pytest.skip("no demo faces: the demo enrols nobody")
    return sorted((faces / person).glob("*.jpg"))


def _photo_card(page: Any, name: str) -> Any:
    return page.locator(tid("face-result", f'[data-name="{name}"]'))


async def test_enrolment_flags_another_person_and_an_enrolled_resident_and_removes_one_photo(
    tmp_path: Path, artefacts: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=30_000)
    savage = _photos("John_Savage")[ENROL_PHOTOS:ENROL_PHOTOS + 2]  # photos the demo did not enrol
    simm = _photos("John_Simm")[ENROL_PHOTOS]
    schneider = _photos("John_Schneider")[ENROL_PHOTOS + 3]
    async with running_demo(tmp_path / "demo") as demo, async_playwright() as playwright:
        browser, page, errors = await _session(playwright, demo)
        try:
            # John Savage's page: he is enrolled from three photos.
            await page.locator(tid("resident-row", '[data-resident-id="r-john-savage"]')).click()
            await expect(page.locator(tid("face-count"))).to_contain_text(f"{ENROL_PHOTOS} face templates")

            # Two new photos of him and one of John Simm.
            await page.locator(tid("face-photos")).set_input_files([str(savage[0]), str(simm), str(savage[1])])
            await expect(page.locator(tid("face-result"))).to_have_count(3)
            odd = _photo_card(page, simm.name)
            await expect(odd.locator(tid("face-odd"))).to_contain_text(
                f"Not the same person as {savage[0].name}, {savage[1].name} nor the resident's enrolled face")
            await expect(odd.locator(tid("face-close"))).to_contain_text("John Simm (r-john-simm)")
            await expect(odd).to_have_attribute("data-flagged", "true")
            for good in savage:
                await expect(_photo_card(page, good.name)).to_have_attribute("data-flagged", "false")
            await expect(page.locator(tid("face-enrol"))).to_be_disabled()
            await expect(page.locator(tid("face-enrol-blocked"))).to_contain_text("not the same person")
            await page.screenshot(path=str(artefacts / "task-enrol-1-odd-photo-flagged.png"), full_page=True)

            # Remove that one photo; the rest are fine and enrol.
            await odd.locator(tid("face-remove")).click()
            await expect(page.locator(tid("face-result"))).to_have_count(2)
            await expect(page.locator(tid("face-note"))).to_contain_text(f"Removed {simm.name}")
            await expect(page.locator(tid("face-enrol-blocked"))).to_have_count(0)
            await expect(page.locator(tid("face-enrol"))).to_be_enabled()
            await page.screenshot(path=str(artefacts / "task-enrol-2-photo-removed.png"), full_page=True)
            await page.locator(tid("face-enrol")).click()
            await expect(page.locator(tid("face-note"))).to_contain_text("Enrolled 2 face templates")
            await expect(page.locator(tid("face-count"))).to_contain_text(f"{ENROL_PHOTOS + 2} face templates")
            await page.screenshot(path=str(artefacts / "task-enrol-3-enrolled.png"), full_page=True)

            # A new resident, with consent, offered John Schneider's face.
            # The community's consent text first (the add flow records consent from one), then the resident,
            # added without photos; the flow ends on their page, where consent is recorded from that text.
            await page.locator("[data-action=res-back]").first.click()
            await page.locator(tid("consent-texts-open")).click()
            await page.locator(tid("consent-text-title")).fill("Gate face recognition")
            await page.locator(tid("consent-text-body")).fill("I agree to face verification at the community gates.")
            await page.locator(tid("consent-text-save")).click()
            await expect(page.locator(tid("consent-text-row"))).to_have_count(1)
            await page.locator('[data-action="consent-texts-back"]').click()
            await page.locator(tid("resident-add")).click()
            await page.locator(tid("resident-form-id")).fill("r-e2e-new")
            await page.locator(tid("resident-form-name")).fill("Chen Jie")
            await page.locator(tid("resident-form-save")).click()
            await expect(page.locator(tid("consent-state"))).to_have_text("No consent")
            await page.locator(tid("consent-text-choice")).select_option(label="Gate face recognition (version 1)")
            await page.locator(tid("consent-record")).click()
            await expect(page.locator(tid("consent-state"))).to_contain_text("Consent given")

            await page.locator(tid("face-photos")).set_input_files([str(schneider)])
            card = _photo_card(page, schneider.name)
            close = card.locator(tid("face-close"))
            await expect(close).to_contain_text("John Schneider (r-john-schneider)")
            await expect(close).to_contain_text("the gates would take this face for them")
            await expect(card.locator(tid("face-odd"))).to_have_count(0)
            await expect(page.locator(tid("face-enrol"))).to_be_disabled()
            await expect(page.locator(tid("face-enrol-blocked"))).to_contain_text("Enrol anyway")
            await page.screenshot(path=str(artefacts / "task-enrol-4-close-to-enrolled-resident.png"), full_page=True)

            await card.locator(tid("face-enrol-anyway")).check()
            await expect(page.locator(tid("face-enrol"))).to_be_enabled()
            await page.locator(tid("face-enrol")).click()
            await expect(page.locator(tid("face-count"))).to_contain_text("1 face template")
            await page.screenshot(path=str(artefacts / "task-enrol-5-enrolled-anyway.png"), full_page=True)

            # The audit log: the choice, who made it, and the removal.
            await page.locator(tid("tab-audit")).click()
            chosen = page.locator(tid("audit-row")).filter(has_text="enrolment.close_match_accepted")
            await expect(chosen).to_have_count(1)
            await expect(chosen).to_contain_text("Chen Jie (r-e2e-new)")
            await expect(chosen).to_contain_text("John Schneider (r-john-schneider)")
            actor = await chosen.locator("td[data-label=Actor]").inner_text()
            assert actor.strip() and actor.strip() != "system", actor
            removed = page.locator(tid("audit-row")).filter(has_text="enrolment.photo_removed")
            await expect(removed).to_contain_text("John Savage (r-john-savage)")
            await expect(removed.locator("td[data-label=Actor]")).to_have_text(actor)
            await page.screenshot(path=str(artefacts / "task-enrol-6-audit.png"), full_page=True)
        finally:
            await browser.close()
        assert not errors, errors
