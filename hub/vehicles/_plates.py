"""Plate text: normalising what a manager types, checking it is a plate, and the OCR near match.

Private to the vehicle registry until ``devices/anpr/plates.py`` (the ANPR receivers' normaliser, written at the
same time) can be shared; then this goes and both use that one.
"""

from __future__ import annotations

import re

from hub.exceptions import InvalidInputError

# A colour word some firmware puts in front of the plate (蓝皖A7XG66) and separators people type.
_COLOUR_PREFIXES = ("新能源", "蓝", "黄", "绿", "白", "黑")
_SEPARATORS = re.compile(r"[\s·•.\-_]")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Chinese civil plates: a province, a letter, then 5 characters (6 for new-energy plates); the last may be a
# special suffix. I and O are never issued (they read as 1 and 0).
_CHINESE = re.compile(rf"[{_PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{{4}}[A-HJ-NP-Z0-9挂学警港澳]|"
                      rf"[{_PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{{6}}")
# Elsewhere (a Home Assistant user's own gate): 2 to 10 letters and digits with at least one digit.
_GENERIC = re.compile(r"(?=.*\d)[A-Z0-9]{2,10}")

# Characters plate OCR confuses with one another.
_CONFUSIONS = ("0OD", "1I", "8B", "2Z", "5S")
_CLASS = {ch: group for group in _CONFUSIONS for ch in group}


def normalise(text: str) -> str:
    """Upper case, no spaces or separators, a leading colour word removed."""
    if not isinstance(text, str):
        raise InvalidInputError(f"a plate must be text, got {type(text).__name__}")
    plate = _SEPARATORS.sub("", text.strip()).upper()
    for prefix in _COLOUR_PREFIXES:
        if plate.startswith(prefix) and len(plate) > len(prefix) + 1 and not _CHINESE.fullmatch(plate):
            plate = plate[len(prefix):]
            break
    return plate


def checked_plate(text: object, field: str = "plate") -> str:
    """The normalised plate, or InvalidInputError saying why it is not one."""
    if not isinstance(text, str):
        raise InvalidInputError(f"{field} must be text, got {type(text).__name__}")
    plate = normalise(text)
    if not plate:
        raise InvalidInputError(f"{field} must not be empty")
    if plate[0].isascii():
        if _GENERIC.fullmatch(plate):
            return plate
        raise InvalidInputError(f"{field} {text!r} is not a plate: 2-10 letters and digits, at least one digit")
    if _CHINESE.fullmatch(plate):
        return plate
    raise InvalidInputError(
        f"{field} {text!r} is not a Chinese plate: a province, a letter and 5 characters (6 for new energy);"
        " I and O are not used"
    )


def confusable(a: str, b: str) -> bool:
    """Whether two different characters are ones plate OCR mistakes for each other."""
    return a != b and a in _CLASS and _CLASS[a] == _CLASS.get(b)


def near_match(read: str, registered: str) -> bool:
    """``read`` differs from ``registered`` in exactly one character, and that one is an OCR confusion."""
    if len(read) != len(registered) or read == registered:
        return False
    differing = [(a, b) for a, b in zip(read, registered, strict=True) if a != b]
    return len(differing) == 1 and confusable(*differing[0])


def near_candidates(read: str) -> list[str]:
    """Every plate one OCR confusion away from ``read`` (what to look up in the registry)."""
    out: list[str] = []
    for index, ch in enumerate(read):
        for other in _CLASS.get(ch, ""):
            if other != ch:
                out.append(read[:index] + other + read[index + 1:])
    return out
