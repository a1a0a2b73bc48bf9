"""The property managers' panel in Home Assistant's sidebar, and the access log's CSV download behind it.

The panel is a plain web component, native ES modules served from this package's ``frontend`` folder with no
build step; it appears (administrators only) while a community hub entry is loaded. The folder is served under a
path that names a hash of all its files, so the entry module's relative imports carry the same version and a
browser never mixes modules of two releases (docs/architecture.md, "Panel"). The CSV export is a signed,
short-lived URL made by the ``access_log/export`` websocket command, so a million rows stream from the journal
without passing through the websocket, and only an administrator's signature opens it."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import voluptuous as vol
from aiohttp import web
from homeassistant.components.http import StaticPathConfig
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import Unauthorized
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.util import dt as dt_util

from hub.exceptions import HubError

from .commands import EXPORT_URL, FILTER_FIELDS, FILTER_SCHEMA, access_filter
from .community import loaded_community
from .const import DOMAIN
from .pass_link import PassLinkView
from .places import async_ha_places, async_reason_texts, display_names, resolve_places

_LOGGER = logging.getLogger(__name__)

PANEL_URL_PATH = "smart-community"
PANEL_ELEMENT = "smart-community-panel"
STATIC_URL = "/smart_community_static"
FRONTEND_DIR = Path(__file__).parent / "frontend"
ENTRY_MODULE = f"{PANEL_ELEMENT}.js"  # defines the element; imports the other modules by relative paths
_STATIC_VERSION = f"{DOMAIN}_static_version"

_EXPORT_QUERY = vol.Schema(FILTER_SCHEMA)  # the same filters as the access_log commands


def frontend_version() -> str:
    """A cache-busting tag: a hash of every file's name and content in ``frontend``, so a release that changes any
    module is served under a new path (Home Assistant caches static files for a month)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in FRONTEND_DIR.rglob("*") if p.is_file()):
        name = path.relative_to(FRONTEND_DIR).as_posix().encode()
        content = path.read_bytes()
        digest.update(b"%d:%b%d:%b" % (len(name), name, len(content), content))
    return digest.hexdigest()[:12]


async def async_register_panel(hass: HomeAssistant) -> None:
    """Add the panel to the sidebar (administrators only); a no-op when Home Assistant runs without a frontend."""
    if "frontend" not in hass.config.components:
        _LOGGER.debug("no frontend loaded: the managers' panel is not registered")
        return
    from homeassistant.components import panel_custom

    # A static path cannot be removed: it is registered once per run, with the version of the files it serves then.
    version: str | None = hass.data.get(_STATIC_VERSION)
    if version is None:
        version = await hass.async_add_executor_job(frontend_version)
        await hass.http.async_register_static_paths(
            [StaticPathConfig(f"{STATIC_URL}/{version}", str(FRONTEND_DIR), cache_headers=True)]
        )
        hass.data[_STATIC_VERSION] = version
    await panel_custom.async_register_panel(
        hass,
        frontend_url_path=PANEL_URL_PATH,
        webcomponent_name=PANEL_ELEMENT,
        sidebar_title="Community",
        sidebar_icon="mdi:shield-home",
        module_url=f"{STATIC_URL}/{version}/{ENTRY_MODULE}",
        require_admin=True,
        config={},
    )


@callback
def async_setup_http(hass: HomeAssistant) -> None:
    """The CSV download (the panel's export; also usable with any administrator's signed URL), and the visitor-pass
    link's page (no login: see pass_link)."""
    hass.http.register_view(AccessLogExportView())
    hass.http.register_view(PassLinkView())


def async_remove_panel(hass: HomeAssistant) -> None:
    """Take the panel out of the sidebar (the community entry is unloading)."""
    if "frontend" not in hass.config.components:
        return
    from homeassistant.components import frontend

    frontend.async_remove_panel(hass, PANEL_URL_PATH, warn_if_unknown=False)


class AccessLogExportView(HomeAssistantView):
    """``GET /api/smart_community/access_log.csv?...``: the filtered access log as CSV, streamed in chunks: times in
    the community's time zone with the UTC offset, place, reason and resident names beside the ids."""

    url = EXPORT_URL
    name = "api:smart_community:access_log_csv"
    requires_auth = True

    async def get(self, request: web.Request) -> web.StreamResponse:
        hass: HomeAssistant = request.app["hass"]
        user = request[KEY_HASS_USER]
        if not user.is_admin:
            raise Unauthorized
        query = {key: value for key, value in request.query.items() if key in FILTER_FIELDS and value}
        try:
            fields = _EXPORT_QUERY(query)
        except vol.Invalid as err:
            return self.json_message(f"Bad filter: {err}", status_code=400)
        entry = loaded_community(hass)
        journal = entry.runtime_data.uplink.journal if entry is not None else None
        if entry is None or journal is None:
            return self.json_message("No community hub is set up.", status_code=404)
        log_filter = access_filter(fields)
        try:  # the filter is checked before the download starts
            await hass.async_add_executor_job(lambda: journal.access_log(log_filter, limit=1))
        except HubError as err:
            return self.json_message(str(err), status_code=400)
        # Names beside the ids (places as Home Assistant and the hub name them, residents who still exist), reasons
        # in words, and times in the community's time zone with their offset, as the panel shows them.
        community = entry.runtime_data.community
        ha_places = async_ha_places(hass)
        hub_doors = await hass.async_add_executor_job(community.read, community.reads.access_config.list_doors)
        residents = await hass.async_add_executor_job(community.read, community.reads.registry.residents.list_residents)
        chunks: Iterator[str] = journal.export_access_log_csv(
            log_filter,
            door_names=display_names(resolve_places(ha_places, {d.door_id: d.name for d in hub_doors}, ha_places)),
            resident_names={r.resident_id: r.full_name for r in residents},
            tz=dt_util.get_default_time_zone(),
            reason_texts=await async_reason_texts(hass),
        )
        response = web.StreamResponse(headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="access-log.csv"',
            "Cache-Control": "no-store",
        })
        await response.prepare(request)
        while (chunk := await hass.async_add_executor_job(_next, chunks)) is not None:
            await response.write(chunk.encode("utf-8"))
        await response.write_eof()
        return response


def _next(chunks: Iterator[str]) -> str | None:
    return next(chunks, None)
