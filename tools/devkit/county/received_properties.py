"""Faster parsing of received MQTT 5 properties for the county consumer's process.

Every event message a county consumer receives carries two user properties (its event id and signature). paho
parses them with its generic :class:`~paho.mqtt.properties.Properties`: the constructor builds two tables per
message, and ``unpack`` looks each property's name up by a scan of every name and sets it through a
``__setattr__`` that scans them again. Profiled in ``bench uplink --profile mqtt`` (py-spy, 2026-12-02), that was
about a third of the consumer process's samples, the largest single share of the county side.

:class:`ReceivedProperties` gives the same object: the tables are shared with one prototype per packet type
(paho never changes them), and a property block made only of user properties (what the hubs send) is read
directly. Anything else (another property, a malformed block, a string MQTT forbids) is handed to paho's own
``unpack``, so its values and its errors are paho's. ``tests/hub/uplink/test_county_received_properties.py``
compares both on the hubs' messages, on every other property type and on malformed blocks.

:func:`install` puts the class into paho's client module, where paho builds the properties of every received
packet. That is process-wide, so it is installed only by a county consumer's own process (``community-hub
county`` and the uplink bench's consumer process), never by the hub or in Home Assistant, where other code uses
paho too.
"""

from __future__ import annotations

from typing import Any

import paho.mqtt.client as paho_client
from paho.mqtt.properties import Properties

_USER_PROPERTY = 38
_PRIVATE = frozenset({"packetType", "types", "names", "properties"})
_PROTOTYPES: dict[int, Properties] = {}


def _prototype(packet_type: int) -> Properties:
    prototype = _PROTOTYPES.get(packet_type)
    if prototype is None:
        prototype = _PROTOTYPES[packet_type] = Properties(packet_type)  # type: ignore[no-untyped-call]
    return prototype


def _string(buffer: bytes, at: int, end: int) -> tuple[str, int] | None:
    """A length-prefixed UTF-8 string at ``at`` that ends by ``end``, and where the next field starts."""
    if at + 2 > end:
        return None
    start = at + 2
    stop = start + int.from_bytes(buffer[at:start], "big")
    if stop > end:
        return None
    try:
        text = buffer[start:stop].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text or "\ufeff" in text:  # MQTT 1.5.4 forbids both (a strict UTF-8 decode refuses surrogates)
        return None
    return text, stop


def user_properties_only(buffer: bytes) -> tuple[list[tuple[str, str]], int] | None:
    """The user properties of a property block holding nothing else, and the block's length with its length
    field; ``None`` for any other block (for paho to parse)."""
    length = shift = 0
    for used in range(1, 5):
        if used > len(buffer):
            return None
        digit = buffer[used - 1]
        length += (digit & 0x7F) << shift
        shift += 7
        if not digit & 0x80:
            break
    else:
        return None
    end = used + length
    if end > len(buffer):
        return None
    pairs: list[tuple[str, str]] = []
    at = used
    while at < end:
        if buffer[at] != _USER_PROPERTY:
            return None
        name = _string(buffer, at + 1, end)
        if name is None:
            return None
        value = _string(buffer, name[1], end)
        if value is None:
            return None
        pairs.append((name[0], value[0]))
        at = value[1]
    return pairs, end


class ReceivedProperties(Properties):
    """paho's :class:`Properties`, built without its per-instance tables and read fast when a block holds only
    user properties (see the module's docstring)."""

    def __init__(self, packetType: int) -> None:  # noqa: N803 - paho's parameter name
        self.__dict__.update(_prototype(packetType).__dict__)

    def unpack(self, buffer: bytes) -> tuple[Properties, int]:
        """Read a received property block (as paho's ``unpack``)."""
        fast = user_properties_only(buffer) if _USER_PROPERTY in self.properties and \
            self.packetType in self.properties[_USER_PROPERTY][1] else None
        if fast is None:
            result: tuple[Properties, int] = super().unpack(buffer)  # type: ignore[no-untyped-call]
            return result
        if len(self.__dict__) > len(_PRIVATE):  # read before: paho's tables and a property or more
            self.clear()  # type: ignore[no-untyped-call]
        pairs, used = fast
        if pairs:
            object.__setattr__(self, "UserProperty", pairs)
        return self, used


def install() -> None:
    """Make paho build received packets' properties with :class:`ReceivedProperties`, in this process."""
    module: Any = paho_client
    module.Properties = ReceivedProperties
