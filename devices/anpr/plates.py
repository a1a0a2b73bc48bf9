"""Plate strings and colours: normalising what a camera's OCR wrote, checking Chinese civil plates, OCR confusions.

Cameras differ in how they write the same plate: ``皖A·7XG66``, ``皖a 7xg66``, ``蓝皖A7XG66`` (some Chinese
firmware prefixes the colour word), and in how they name its colour (GA/T 1400 codes, vendor indexes, words).
:func:`normalize_plate` gives one spelling; :func:`color_from_code` / :func:`color_from_word` one colour.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from .models import PlateColor

__all__ = [
    "CONFUSABLE_GROUPS",
    "NO_PLATE_TEXTS",
    "NormalizedPlate",
    "color_from_code",
    "color_from_word",
    "confusable",
    "is_chinese_civil_plate",
    "near_candidates",
    "near_matches",
    "normalize_plate",
    "plate_problem",
    "split_color_prefix",
]

# The province (and special-use) characters a Chinese civil plate starts with.
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Characters some plates end with: 学 (driving school), 警 (police), 挂 (trailer), 港/澳 (cross-border), 领/使.
_SUFFIXES = "学警挂港澳领使"

# Colour words in front of the plate, longest first so 黄绿 (yellow-green new energy) wins over 黄.
_COLOR_PREFIXES: tuple[tuple[str, PlateColor], ...] = (
    ("新能源", PlateColor.GREEN),
    ("渐变绿", PlateColor.GREEN),
    ("黄绿", PlateColor.GREEN),
    ("绿牌", PlateColor.GREEN),
    ("蓝牌", PlateColor.BLUE),
    ("黄牌", PlateColor.YELLOW),
    ("白牌", PlateColor.WHITE),
    ("黑牌", PlateColor.BLACK),
    ("蓝", PlateColor.BLUE),
    ("黄", PlateColor.YELLOW),
    ("绿", PlateColor.GREEN),
    ("白", PlateColor.WHITE),
    ("黑", PlateColor.BLACK),
)

# Colour words as vendors write them (Hikvision XML ``plateColor``, Dahua ``PlateColor``, Frigate none).
_COLOR_WORDS: dict[str, PlateColor] = {
    "black": PlateColor.BLACK, "white": PlateColor.WHITE, "blue": PlateColor.BLUE, "yellow": PlateColor.YELLOW,
    "green": PlateColor.GREEN, "newenergy": PlateColor.GREEN, "yellowgreen": PlateColor.GREEN,
    "gradientgreen": PlateColor.GREEN, "other": PlateColor.OTHER, "unknown": PlateColor.OTHER,
    "黑": PlateColor.BLACK, "白": PlateColor.WHITE, "蓝": PlateColor.BLUE, "黄": PlateColor.YELLOW,
    "绿": PlateColor.GREEN, "新能源": PlateColor.GREEN, "黄绿": PlateColor.GREEN, "渐变绿": PlateColor.GREEN,
    "其他": PlateColor.OTHER, "未知": PlateColor.OTHER,
}

# What cameras write when they saw a vehicle but no plate.
NO_PLATE_TEXTS = frozenset({"", "无牌车", "无车牌", "车牌", "无", "UNKNOWN", "NOPLATE", "NONE", "NULL", "_无_"})

# After the province and the authority letter: letters (no I or O, which the plates never use) and digits.
_PLATE_BODY = frozenset("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")

# Elsewhere (a Home Assistant user's own gate): 2 to 10 letters and digits with at least one digit.
_GENERIC = re.compile(r"(?=.*\d)[A-Z0-9]{2,10}")

_SEPARATORS = re.compile(r"[\s.\-_·•・∙‧/\\]+")

# OCR confusions: characters in one group are read as each other.
CONFUSABLE_GROUPS: tuple[frozenset[str], ...] = (
    frozenset("0OD"),
    frozenset("1I"),
    frozenset("8B"),
    frozenset("2Z"),
    frozenset("5S"),
)
_CONFUSABLE: dict[str, frozenset[str]] = {ch: group for group in CONFUSABLE_GROUPS for ch in group}


@dataclass(frozen=True, slots=True)
class NormalizedPlate:
    """A plate as the hub stores it, the colour its prefix named (if any), and whether it looks Chinese civil."""

    plate: str
    prefix_color: PlateColor | None
    chinese_civil: bool


def split_color_prefix(text: str) -> tuple[str, PlateColor | None]:
    """``("皖A7XG66", BLUE)`` for ``"蓝皖A7XG66"``; the text unchanged and ``None`` when it has no colour word."""
    for word, color in _COLOR_PREFIXES:
        rest = text.removeprefix(word)
        if rest == text or not rest:
            continue
        # Only a prefix when a plate follows: a province character, or (for a word that is not itself a province,
        # unlike 黑 Heilongjiang) a letter or digit. 黑A12345 is a Heilongjiang plate; 黑黑A12345 a black one.
        if rest[0] in PROVINCES or (word not in PROVINCES and rest[0].isascii() and rest[0].isalnum()):
            return rest, color
    return text, None


def normalize_plate(raw: str | None) -> NormalizedPlate:
    """Upper case, full-width characters folded, spaces/dots/dashes removed, a colour-word prefix removed.

    A camera's "no plate" text (``无牌车``, ``unknown``...) becomes ``""``. Foreign and unusual plates are kept as
    they are (normalised the same way): ``chinese_civil`` says whether it has the Chinese civil shape.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    text = _SEPARATORS.sub("", text).upper()
    text, color = split_color_prefix(text)
    if text.removeprefix("_") in NO_PLATE_TEXTS or text in NO_PLATE_TEXTS:
        return NormalizedPlate("", color, False)
    return NormalizedPlate(text, color, is_chinese_civil_plate(text))


def is_chinese_civil_plate(plate: str) -> bool:
    """A province character, a letter, then 5 characters (6 for new-energy plates), letters and digits only
    (``I`` and ``O`` are not used after the province); a driving-school/police/trailer character may end it."""
    if len(plate) < 7 or plate[0] not in PROVINCES:
        return False
    body = plate[1:]
    if body[-1] in _SUFFIXES:
        body = body[:-1]  # 川A1234学: the letter, 4 characters, the suffix
        if len(body) != 5:
            return False
    elif len(body) not in (6, 7):
        return False
    if not ("A" <= body[0] <= "Z"):
        return False
    rest = body[1:]
    return all(ch in _PLATE_BODY for ch in rest)


def color_from_word(word: str | None) -> PlateColor:
    """A colour name (``blue``, ``Yellow``, ``蓝``, ``newEnergy``...) as a :class:`PlateColor`; ``OTHER`` if unknown."""
    key = re.sub(r"[\s_\-]", "", (word or "").strip()).lower()
    if not key:
        return PlateColor.OTHER
    if key in _COLOR_WORDS:
        return _COLOR_WORDS[key]
    if key.isdigit():
        return color_from_code(int(key))
    # Compound names some firmware uses: newEnergyGreen, civilAviationBlack, gradientGreen, ...
    for name in ("green", "yellow", "blue", "white", "black"):
        if name in key:
            return _COLOR_WORDS[name]
    return PlateColor.OTHER


def color_from_code(code: int | str | None, *, scheme: str = "gat1400") -> PlateColor:
    """A numeric colour code as a :class:`PlateColor`.

    ``gat1400`` (Hikvision's numeric ``plateColor``, GA/T 1400): 1 black, 2 white, 5 blue, 6 yellow, 9 green,
    99 other. ``vzenith`` (``colorType``): 0 unknown, 1 blue, 2 yellow, 3 white, 4 black, 5 green, 6 yellow-green
    (new energy for large vehicles). Anything else is ``OTHER``.
    """
    try:
        value = int(code) if code is not None and str(code).strip() != "" else None
    except ValueError:
        return color_from_word(str(code))
    if value is None:
        return PlateColor.OTHER
    if scheme == "vzenith":
        return {1: PlateColor.BLUE, 2: PlateColor.YELLOW, 3: PlateColor.WHITE, 4: PlateColor.BLACK,
                5: PlateColor.GREEN, 6: PlateColor.GREEN}.get(value, PlateColor.OTHER)
    try:
        return PlateColor(value)
    except ValueError:
        return PlateColor.OTHER


def confusable(a: str, b: str) -> bool:
    """Whether two different plates of the same length differ in exactly one position, by an OCR confusion
    (0/O/D, 1/I, 8/B, 2/Z, 5/S). Identical plates are not "confusable": they are the same plate."""
    if len(a) != len(b) or a == b:
        return False
    differences = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    if len(differences) != 1:
        return False
    x, y = differences[0]
    return y in _CONFUSABLE.get(x, frozenset())


def near_matches(plate: str, candidates: Iterable[str]) -> list[str]:
    """The candidates one OCR confusion away from ``plate`` (not ``plate`` itself), in the order given.

    Whether a near match may open a barrier is the decision layer's choice (an operator switch), not this one's.
    """
    return [candidate for candidate in candidates if confusable(plate, candidate)]


def near_candidates(plate: str) -> list[str]:
    """Every plate one OCR confusion away from ``plate`` (what a registry looks up for a near match)."""
    out: list[str] = []
    for index, ch in enumerate(plate):
        for other in sorted(_CONFUSABLE.get(ch, frozenset())):
            if other != ch:
                out.append(plate[:index] + other + plate[index + 1:])
    return out


def plate_problem(plate: str) -> str | None:
    """Why a normalised plate cannot be *registered* (``None`` when it can).

    Stricter than reading: a camera's read is kept whatever its shape, but what a manager registers must be a
    Chinese civil plate, or (a plate starting with a Latin letter or digit) 2-10 letters and digits with a digit.
    """
    if not plate:
        return "must not be empty"
    if plate[0].isascii():
        if _GENERIC.fullmatch(plate):
            return None
        return "is not a plate: 2-10 letters and digits, at least one digit"
    if is_chinese_civil_plate(plate):
        return None
    return "is not a Chinese plate: a province, a letter and 5 characters (6 for new energy); I and O are not used"
