"""The access-control id of a controller's door: ``<serial>-door<index>``, as stored and used in unique ids."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PATTERN = re.compile(r"^(?P<serial>.+)-door(?P<index>0|[1-9][0-9]*)$")


@dataclass(frozen=True, slots=True, order=True)
class DoorId:
    """Door ``index`` (from 0) of the controller with ``serial``; ``str()`` is the id the database keeps."""

    serial: str
    index: int

    @classmethod
    def for_controller(cls, serial: str, index: int) -> DoorId:
        """The id of a controller's door (``index`` counts from 0)."""
        if not serial or index < 0:
            raise ValueError(f"not a controller door: serial {serial!r}, index {index}")
        return cls(serial, index)

    @classmethod
    def parse(cls, text: str) -> DoorId:
        """The id back from its string (``ValueError`` for a door id that names no controller door)."""
        match = _PATTERN.match(text)
        if match is None:
            raise ValueError(f"not a controller door id: {text!r}")
        return cls(match["serial"], int(match["index"]))

    @classmethod
    def try_parse(cls, text: str) -> DoorId | None:
        """As :meth:`parse`, or ``None`` (doors configured by hand may have any id)."""
        try:
            return cls.parse(text)
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"{self.serial}-door{self.index}"
