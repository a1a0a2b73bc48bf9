"""Reading visitor-pass QR codes at gates: an optional part, installed by Home Assistant where it can be.

The decoder, zxing-cpp, publishes wheels for glibc Linux only (x86-64 and aarch64). It is not in the manifest's
requirements, because on Home Assistant OS and the container (musl) Home Assistant would try to compile it and the
whole integration would fail to set up. Instead, once the community is up, Home Assistant's own installer is asked
for it in the background where a wheel exists; where it cannot be had, a repair issue says so, and gates keep taking
cards, PINs and faces. Nothing here delays the gates: they are running before this starts.
"""

from __future__ import annotations

import importlib
import logging
import platform

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.requirements import RequirementsNotFound, async_process_requirements

from hub.community import Community
from hub.residents.qr import QrDecoderStatus, qr_decoder_status

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

QR_REQUIREMENT = "zxing-cpp>=2.2"
ISSUE_ID = "qr_decoder_missing"


def wheel_exists_here() -> bool:
    """Whether zxing-cpp publishes a wheel for this machine: glibc Linux on x86-64 or aarch64."""
    machine = platform.machine().lower()
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc" and machine in {
        "x86_64", "amd64", "aarch64", "arm64"
    }


def _status_after_install() -> QrDecoderStatus:
    importlib.invalidate_caches()  # the package may have appeared in site-packages since start-up
    return qr_decoder_status()


async def async_ensure_qr_decoder(hass: HomeAssistant, community: Community) -> QrDecoderStatus:
    """Install the QR decoder if it is missing and can be had here; raise or clear the repair issue."""
    status = await hass.async_add_executor_job(qr_decoder_status)
    if not status.available and wheel_exists_here():
        try:
            await async_process_requirements(hass, DOMAIN, [QR_REQUIREMENT])
        except RequirementsNotFound as err:
            _LOGGER.warning("the QR decoder (%s) could not be installed: %s", QR_REQUIREMENT, err)
        status = await hass.async_add_executor_job(_status_after_install)
        if status.available:
            community.access.qr_decoder_installed()
    if status.available:
        ir.async_delete_issue(hass, DOMAIN, ISSUE_ID)
    else:
        ir.async_create_issue(
            hass, DOMAIN, ISSUE_ID, is_fixable=False, severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_ID, translation_placeholders={"reason": status.reason or ""},
        )
    return status
