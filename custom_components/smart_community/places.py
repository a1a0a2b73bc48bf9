"""Places by name: what a door, gate or camera is called, and which area it is in, wherever the integration shows it.

A manager names places in Home Assistant: the device of a door (``<serial>-door<n>``) or of a camera (its serial)
renamed in the device page, and its area set there (or on the door's lock entity). Home Assistant's name wins;
the hub keeps a name of its own for every door (the ``doors`` table, e.g. the demo's "North gate"), which is the
fallback for places Home Assistant has no object for, and the id is the last resort. :func:`place_name` is the one
rule; :func:`async_ha_places` reads Home Assistant's registries (on the event loop) and :func:`resolve_places`
merges them with the hub's door names. The panel, the CSV export, the audit log view and the alarms use these.
Names of places are not personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN


@dataclass(frozen=True, slots=True)
class HaPlace:
    """What Home Assistant knows about a place: the name a manager gave its device (``None``: not renamed), the
    device's own name, and its area's name."""

    name_by_user: str | None
    device_name: str | None
    area: str | None


@dataclass(frozen=True, slots=True)
class Place:
    """A place as shown: its id (kept beside the name), its display name and its area (``None``: none set)."""

    place_id: str
    name: str
    area: str | None

    def as_dict(self) -> dict[str, str | None]:
        """The place for a websocket response."""
        return {"id": self.place_id, "name": self.name, "area": self.area}


def place_name(place_id: str, ha: HaPlace | None, hub_name: str | None) -> str:
    """The display name of a place: the name a manager gave it in Home Assistant, else the hub's name for it, else
    Home Assistant's device name, else its id."""
    for name in (ha.name_by_user if ha else None, hub_name, ha.device_name if ha else None):
        if name and name.strip():
            return name.strip()
    return place_id


@callback
def async_ha_places(hass: HomeAssistant) -> dict[str, HaPlace]:
    """On the event loop: every device of this integration by its identifier (door id, camera or controller serial),
    with the name a manager gave it and its area (the device's, or the first of its entities' areas)."""
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    areas = ar.async_get(hass)

    def area_name(area_id: str | None) -> str | None:
        area = areas.async_get_area(area_id) if area_id else None
        return area.name if area is not None else None

    found: dict[str, HaPlace] = {}
    for entry in hass.config_entries.async_entries(DOMAIN):
        for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
            area = area_name(device.area_id)
            if area is None:
                for entity in er.async_entries_for_device(entities, device.id):
                    if (area := area_name(entity.area_id)) is not None:
                        break
            for domain, identifier in device.identifiers:
                if domain == DOMAIN:
                    found[identifier] = HaPlace(device.name_by_user, device.name, area)
    return found


def resolve_places(ha: Mapping[str, HaPlace], hub_names: Mapping[str, str],
                   extra_ids: Iterable[str] = ()) -> dict[str, Place]:
    """Every place the hub names (its doors) and every ``extra_ids`` one, by id, named by :func:`place_name`."""
    places: dict[str, Place] = {}
    for place_id in [*hub_names, *extra_ids]:
        known = ha.get(place_id)
        places[place_id] = Place(place_id, place_name(place_id, known, hub_names.get(place_id)),
                                 known.area if known else None)
    return places


def display_names(places: Mapping[str, Place]) -> dict[str, str]:
    """Id to display name, e.g. for the CSV's ``door_name`` column."""
    return {place_id: place.name for place_id, place in places.items()}


REASON_TABLE = "access_reason"  # selector.access_reason.options in strings.json: a decision's reason in words


async def async_reason_texts(hass: HomeAssistant, language: str | None = None) -> dict[str, str]:
    """Each decision reason in words, in ``language`` (Home Assistant's own by default; English where the language
    has no translation): the one table of reasons, in the integration's translations."""
    lang = language or hass.config.language
    strings = await async_get_translations(hass, lang, "selector", [DOMAIN])
    prefix = f"component.{DOMAIN}.selector.{REASON_TABLE}.options."
    texts = {key.removeprefix(prefix): text for key, text in strings.items() if key.startswith(prefix)}
    if lang != "en":  # a language without this table (or part of it) falls back to English
        english = await async_reason_texts(hass, "en")
        texts = {**english, **texts}
    return texts


def reason_text(texts: Mapping[str, str], reason: str | None) -> str | None:
    """A reason code in words (an unknown code as it is)."""
    if reason is None:
        return None
    return texts.get(reason, reason)
