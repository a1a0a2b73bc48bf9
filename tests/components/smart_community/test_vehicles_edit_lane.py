"""Changing an ANPR camera's lane in the community's options flow, through the real ``hass``: the form comes filled
in with the stored lane; bad input is refused with the field's error and changes nothing; a new barrier relay and a
new push secret take effect (the old push URL is refused, the new one opens the new relay of the simulated Modbus
controller), the stored password is kept when left blank, and the change is audited with who made it and which
settings changed (never their values)."""

from __future__ import annotations

import json

import aiohttp
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_community.vehicles import CONF_ANPR_LANES, PUSH_PATH
from devkit.sim.anpr import hikvision_push
from devkit.sim.door_controller import DoorControllerSim

from .conftest import wait_for_event
from .test_vehicles_ha import RESIDENT_PLATE, _entity, _push, _record, lane  # noqa: F401

FORM = {"format": "hikvision", "car_park": "north", "entrance": "main", "lane_no": 1, "direction": "entry",
        "barrier": "door", "lock": "lock.simdc0042_door_2"}


async def test_a_lane_is_edited_with_a_new_relay_and_secret_and_bad_input_changes_nothing(
    hass: HomeAssistant, community_entry: MockConfigEntry, lane: str, simulator: DoorControllerSim,  # noqa: F811
    hass_client_no_auth: object, hass_admin_user: object,
) -> None:
    # A Basic password on the camera first, so that keeping it when left blank can be seen.
    stored = dict(community_entry.options[CONF_ANPR_LANES][0])
    hass.config_entries.async_update_entry(community_entry, options={
        **community_entry.options, CONF_ANPR_LANES: [{**stored, "username": "anpr", "password": "cam-pass-1"}]})
    await hass.async_block_till_done()
    before = dict(community_entry.options)

    flow = await hass.config_entries.options.async_init(community_entry.entry_id,
                                                        context={"user_id": hass_admin_user.id})  # type: ignore[attr-defined]
    assert "edit_anpr_lane" in flow["menu_options"]
    flow = await hass.config_entries.options.async_configure(flow["flow_id"], {"next_step_id": "edit_anpr_lane"})
    form = await hass.config_entries.options.async_configure(flow["flow_id"], {"lane": stored["key"]})
    assert form["step_id"] == "edit_anpr_lane_settings"
    assert form["description_placeholders"] == {"lane": "north main lane 1"}
    defaults = {str(k): k.default() for k in form["data_schema"].schema if callable(getattr(k, "default", None))}
    assert defaults["car_park"] == "north" and defaults["direction"] == "entry" and defaults["rotate_secret"] is False
    suggested = {str(k): (k.description or {}).get("suggested_value") for k in form["data_schema"].schema}
    assert suggested["lock"] == "lock.simdc0042_door_2" and suggested["username"] == "anpr"
    assert suggested.get("password") is None  # a password is never shown

    for bad, error in (({"car_park": "north park!"}, {"car_park": "invalid_name"}),
                       ({"barrier": "camera"}, {"camera_url": "barrier_camera_required"}),
                       ({"barrier": "reply"}, {"barrier": "barrier_reply_vzenith"}),
                       ({"tollgate_id": "12345"}, {"tollgate_id": "gat1400_id"}),
                       ({"lock": None, "barrier": "door"}, {"lock": "barrier_lock_required"})):
        refused = await hass.config_entries.options.async_configure(
            form["flow_id"], {k: v for k, v in {**FORM, "username": "anpr", **bad}.items() if v is not None})
        assert refused["step_id"] == "edit_anpr_lane_settings" and refused["errors"] == error, bad
    assert dict(community_entry.options) == before

    shown = await hass.config_entries.options.async_configure(form["flow_id"], {
        **FORM, "lock": "lock.simdc0042_door_1", "username": "anpr", "rotate_secret": True})
    assert shown["step_id"] == "anpr_push_url"
    url = shown["description_placeholders"]["url"]
    new_path = url[url.index(PUSH_PATH):]
    assert new_path != lane and new_path.startswith(f"{PUSH_PATH}/hikvision/")
    done = await hass.config_entries.options.async_configure(shown["flow_id"], {})
    assert done["type"] == "create_entry"
    await hass.async_block_till_done()
    (saved,) = community_entry.options[CONF_ANPR_LANES]
    assert saved["key"] == stored["key"] and saved["lock"] == "lock.simdc0042_door_1"
    assert saved["password"] == "cam-pass-1" and saved["secret"] != stored["secret"]

    client = await hass_client_no_auth()  # type: ignore[operator]
    assert await _push(client, lane, _record(RESIDENT_PLATE, "edit-0001")) == 404  # the old URL
    body, content_type = hikvision_push(_record(RESIDENT_PLATE, "edit-0002"))
    no_login = await client.post(new_path, data=body, headers={"Content-Type": content_type})
    assert no_login.status == 401  # the kept password is still asked for
    ok = await client.post(new_path, data=body, headers={"Content-Type": content_type},
                           auth=aiohttp.BasicAuth("anpr", "cam-pass-1"))
    assert ok.status == 200
    await wait_for_event(hass, _entity(hass, "event", "-vehicle"), "granted")
    assert simulator.doors[0].releases == 1 and simulator.doors[1].releases == 0  # the new relay

    journal = community_entry.runtime_data.uplink.journal
    entries = await hass.async_add_executor_job(lambda: journal.audit.entries_desc(limit=20))
    (edit,) = [e for e in entries if e.action == "vehicles.edit_lane"]
    assert edit.actor == hass_admin_user.id  # type: ignore[attr-defined]
    assert edit.details["changed"] == ["lock", "secret"] and edit.details["secret_rotated"] is True
    text = json.dumps(edit.details)
    assert saved["secret"] not in text and stored["secret"] not in text and "cam-pass-1" not in text
