"""Zeroconf (mDNS/DNS-SD) advertisement and parsing of the hub's devices.

Devices (and the simulators) announce themselves as ``_smart-community._tcp.local.``; the TXT record says what
they are, so a hub can offer them for set-up without a scan. TXT keys (version 1)::

    txtvers  "1"
    serial   the device's serial number (required; the unique id)
    model    model name (required)
    profile  hub-native | io-module | camera (required): which driver speaks to it
    kind     controller | camera (required)
    fw       firmware version (optional)
    unit     Modbus unit id (controllers, optional, default 1)
    path     snapshot path, e.g. /snapshot.jpg (cameras)
    mjpeg    MJPEG stream path, e.g. /mjpeg (cameras, optional)

The SRV record carries the port (Modbus TCP for controllers, HTTP for cameras).

The functions take an injected :class:`zeroconf.asyncio.AsyncZeroconf`: in Home Assistant its shared instance
(never a private one), in the simulators one bound to loopback with ``interfaces=["127.0.0.1"]``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from zeroconf import ServiceInfo
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from .exceptions import DeviceProtocolError, DeviceValueError

SERVICE_TYPE = "_smart-community._tcp.local."
TXT_VERSION = "1"
# A TXT string is at most 255 bytes including "key="; keep well below.
_MAX_TXT_VALUE = 200
# zeroconf gives TXT records as bytes; Home Assistant's ZeroconfServiceInfo.properties as decoded strings.
type TxtProperties = Mapping[bytes, bytes | None] | Mapping[str, str | None]


class DeviceProfile(StrEnum):
    """Which driver speaks to a device."""

    HUB_NATIVE = "hub-native"
    IO_MODULE = "io-module"
    CAMERA = "camera"


class DeviceKind(StrEnum):
    """What a device is to the hub."""

    CONTROLLER = "controller"
    CAMERA = "camera"


# A profile implies the kind; both are advertised so a hub that does not know a newer profile still knows what
# sort of device it is looking at.
_KIND_OF_PROFILE = {
    DeviceProfile.HUB_NATIVE: DeviceKind.CONTROLLER,
    DeviceProfile.IO_MODULE: DeviceKind.CONTROLLER,
    DeviceProfile.CAMERA: DeviceKind.CAMERA,
}


class InvalidAdvertisementError(DeviceProtocolError):
    """A zeroconf advertisement that lacks required TXT keys or carries values that make no sense."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceAdvertisement:
    """What a device announces about itself."""

    serial: str
    model: str
    profile: DeviceProfile
    port: int
    addresses: Sequence[str] = ("127.0.0.1",)
    firmware: str | None = None
    unit_id: int | None = None
    snapshot_path: str | None = None
    mjpeg_path: str | None = None
    host_name: str | None = None  # default: "<serial>.local."

    @property
    def kind(self) -> DeviceKind:
        """Controller or camera, from the profile."""
        return _KIND_OF_PROFILE[self.profile]

    @property
    def instance_name(self) -> str:
        """The DNS-SD service instance name (``<model> <serial>._smart-community._tcp.local.``)."""
        return f"{self.model} {self.serial}.{SERVICE_TYPE}"

    def txt(self) -> dict[str, str]:
        """The TXT record."""
        record = {
            "txtvers": TXT_VERSION,
            "serial": self.serial,
            "model": self.model,
            "profile": self.profile.value,
            "kind": self.kind.value,
        }
        optional = {
            "fw": self.firmware,
            "unit": None if self.unit_id is None else str(self.unit_id),
            "path": self.snapshot_path,
            "mjpeg": self.mjpeg_path,
        }
        record.update({k: v for k, v in optional.items() if v is not None})
        return record


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveredDevice:
    """A device found through zeroconf, validated."""

    serial: str
    model: str
    profile: DeviceProfile
    kind: DeviceKind
    host: str
    port: int
    name: str = ""
    addresses: tuple[str, ...] = ()
    firmware: str | None = None
    unit_id: int = 1
    snapshot_path: str | None = None
    mjpeg_path: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def snapshot_url(self) -> str | None:
        """Full snapshot URL for a camera."""
        return None if self.snapshot_path is None else f"http://{_url_host(self.host)}:{self.port}{self.snapshot_path}"

    @property
    def mjpeg_url(self) -> str | None:
        """Full MJPEG URL for a camera."""
        return None if self.mjpeg_path is None else f"http://{_url_host(self.host)}:{self.port}{self.mjpeg_path}"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def build_service_info(advert: DeviceAdvertisement) -> AsyncServiceInfo:
    """The zeroconf service info announcing ``advert``."""
    _validate_advert(advert)
    try:
        addresses = [ipaddress.ip_address(a).packed for a in advert.addresses]
    except ValueError as err:
        raise DeviceValueError(f"bad address in {list(advert.addresses)}: {err}") from err
    host_name = advert.host_name or f"{_dns_label(advert.serial)}.local."
    return AsyncServiceInfo(
        SERVICE_TYPE,
        advert.instance_name,
        addresses=addresses,
        port=advert.port,
        properties=advert.txt(),
        server=host_name,
    )


def _dns_label(text: str) -> str:
    label = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
    return label or "device"


def _validate_advert(advert: DeviceAdvertisement) -> None:
    if not advert.serial or not advert.model:
        raise DeviceValueError("an advertisement needs a serial and a model")
    if not 1 <= advert.port <= 65535:
        raise DeviceValueError(f"port {advert.port} out of range")
    for key, value in advert.txt().items():
        if len(value.encode()) > _MAX_TXT_VALUE:
            raise DeviceValueError(f"TXT value for {key} is too long")
    if advert.profile is DeviceProfile.CAMERA and advert.snapshot_path is None:
        raise DeviceValueError("a camera advertisement needs a snapshot path")


async def advertise(aiozc: AsyncZeroconf, advert: DeviceAdvertisement) -> AsyncServiceInfo:
    """Announce a device and wait until the announcements are sent (about a second); keep the returned info to
    :func:`unadvertise` it later.

    ``allow_name_change`` lets zeroconf pick "<name> (2)" if another device already uses the instance name,
    rather than failing: the serial in the TXT record stays the identity.
    """
    info = build_service_info(advert)
    # Awaiting the registration only queues the announcements; awaiting the task it returns lets them go out,
    # so no broadcast task outlives a caller that stops right after.
    announced = await aiozc.async_register_service(info, allow_name_change=True)
    await announced
    return info


async def unadvertise(aiozc: AsyncZeroconf, info: AsyncServiceInfo) -> None:
    """Withdraw an announcement (sends the goodbye packets)."""
    goodbye = await aiozc.async_unregister_service(info)
    await goodbye


def _decode_properties(properties: TxtProperties) -> dict[str, str]:
    decoded: dict[str, str] = {}
    items: list[tuple[str | bytes, str | bytes | None]] = list(properties.items())
    for key, value in items:
        try:
            k = key.decode("utf-8") if isinstance(key, bytes) else key
            v = value.decode("utf-8") if isinstance(value, bytes) else (value or "")
        except UnicodeDecodeError as err:
            raise InvalidAdvertisementError(f"TXT record is not UTF-8: {err}") from err
        decoded[k.lower()] = v
    return decoded


def parse_txt(
    properties: TxtProperties,
    *,
    host: str,
    port: int,
    name: str = "",
    addresses: Sequence[str] = (),
) -> DiscoveredDevice:
    """Validate a TXT record (raw bytes as zeroconf gives them, or decoded strings as Home Assistant's
    ``ZeroconfServiceInfo.properties`` does) and the SRV data into a :class:`DiscoveredDevice`."""
    props = _decode_properties(properties)

    def required(key: str) -> str:
        value = props.get(key, "").strip()
        if not value:
            raise InvalidAdvertisementError(f"advertisement {name!r} has no {key!r} TXT record")
        return value

    serial, model = required("serial"), required("model")
    try:
        profile = DeviceProfile(required("profile"))
    except ValueError as err:
        raise InvalidAdvertisementError(f"advertisement {name!r}: unknown profile {props['profile']!r}") from err
    kind_raw = props.get("kind", _KIND_OF_PROFILE[profile].value)
    try:
        kind = DeviceKind(kind_raw)
    except ValueError as err:
        raise InvalidAdvertisementError(f"advertisement {name!r}: unknown kind {kind_raw!r}") from err
    if kind is not _KIND_OF_PROFILE[profile]:
        raise InvalidAdvertisementError(f"advertisement {name!r}: profile {profile} is not a {kind}")
    unit_id = 1
    if "unit" in props:
        if not props["unit"].isdigit() or not 0 <= int(props["unit"]) <= 255:
            raise InvalidAdvertisementError(f"advertisement {name!r}: bad Modbus unit {props['unit']!r}")
        unit_id = int(props["unit"])
    if not 1 <= port <= 65535:
        raise InvalidAdvertisementError(f"advertisement {name!r}: port {port} out of range")
    if not host:
        raise InvalidAdvertisementError(f"advertisement {name!r} has no address")
    snapshot_path, mjpeg_path = props.get("path"), props.get("mjpeg")
    for path in (snapshot_path, mjpeg_path):
        if path is not None and not path.startswith("/"):
            raise InvalidAdvertisementError(f"advertisement {name!r}: path {path!r} must start with /")
    if profile is DeviceProfile.CAMERA and snapshot_path is None:
        raise InvalidAdvertisementError(f"advertisement {name!r}: a camera needs a 'path' TXT record")
    return DiscoveredDevice(
        serial=serial,
        model=model,
        profile=profile,
        kind=kind,
        host=host,
        port=port,
        name=name,
        addresses=tuple(addresses),
        firmware=props.get("fw"),
        unit_id=unit_id,
        snapshot_path=snapshot_path,
        mjpeg_path=mjpeg_path,
        properties=props,
    )


def parse_service_info(info: ServiceInfo) -> DiscoveredDevice:
    """Validate a resolved zeroconf :class:`~zeroconf.ServiceInfo` into a :class:`DiscoveredDevice`.

    The device is addressed by its first IPv4 address (IPv6 when it has none): link-local host names do not
    resolve everywhere Home Assistant runs.
    """
    addresses = info.parsed_scoped_addresses()
    ipv4 = [a for a in addresses if ":" not in a]
    host = (ipv4 or addresses or [""])[0]
    if info.port is None:
        raise InvalidAdvertisementError(f"advertisement {info.name!r} has no port")
    return parse_txt(info.properties, host=host, port=info.port, name=info.name, addresses=addresses)

