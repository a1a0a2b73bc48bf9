"""The panel's modules as Home Assistant serves them: under one path that names their version, each with the
month-long cache header, every relative import of the entry resolving to a served module."""

from __future__ import annotations

import re

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.smart_community import panel

IMPORT = re.compile(r'^import \{[^}]*\} from "([^"]+)";$', re.M)


async def test_every_module_is_served_under_the_versioned_path(
    hass: HomeAssistant, community_entry: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "frontend", {})
    assert await hass.config_entries.async_reload(community_entry.entry_id)
    await hass.async_block_till_done()
    module_url = hass.data["frontend_panels"]["smart-community"].config["_panel_custom"]["module_url"]
    version = await hass.async_add_executor_job(panel.frontend_version)
    assert module_url == f"{panel.STATIC_URL}/{version}/{panel.ENTRY_MODULE}"

    client = await hass_client()
    served: set[str] = set()
    todo = [URL(module_url)]
    while todo:
        url = todo.pop()
        response = await client.get(str(url))
        assert response.status == 200, url
        assert "max-age" in response.headers["Cache-Control"]
        assert "javascript" in response.headers["Content-Type"]
        served.add(url.path.removeprefix(f"{panel.STATIC_URL}/{version}/"))
        for specifier in IMPORT.findall(await response.text()):
            target = url.join(URL(specifier))
            assert target.path.startswith(f"{panel.STATIC_URL}/{version}/")  # the same version for every module
            if target.path.removeprefix(f"{panel.STATIC_URL}/{version}/") not in served:
                todo.append(target)
    assert served == {p.relative_to(panel.FRONTEND_DIR).as_posix() for p in panel.FRONTEND_DIR.rglob("*.js")}

    # A reload registers the panel again with the same version (a static path is registered once per run).
    assert await hass.config_entries.async_reload(community_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.data["frontend_panels"]["smart-community"].config["_panel_custom"]["module_url"] == module_url
