"""Plate normalisation as the cameras write plates, colour codes and words, the Chinese civil shape, OCR
confusions."""

from __future__ import annotations

import pytest

from devices.anpr.models import PlateColor
from devices.anpr.plates import (
    color_from_code,
    color_from_word,
    confusable,
    is_chinese_civil_plate,
    near_matches,
    normalize_plate,
)


@pytest.mark.parametrize(("raw", "plate", "color"), [
    ("皖A7XG66", "皖A7XG66", None),
    ("蓝皖A7XG66", "皖A7XG66", PlateColor.BLUE),
    ("黄京B12345", "京B12345", PlateColor.YELLOW),
    ("绿粤BD12345", "粤BD12345", PlateColor.GREEN),
    ("白沪A12345", "沪A12345", PlateColor.WHITE),
    ("黑川A1234港", "川A1234港", PlateColor.BLACK),
    ("新能源苏AD12345", "苏AD12345", PlateColor.GREEN),
    ("黄绿浙AF12345", "浙AF12345", PlateColor.GREEN),
    ("蓝牌皖A7XG66", "皖A7XG66", PlateColor.BLUE),
    ("皖a·7xg-66", "皖A7XG66", None),
    (" 皖 A 7XG66 ", "皖A7XG66", None),
    ("皖Ａ７ＸＧ６６", "皖A7XG66", None),  # full-width letters and digits
    ("b-ab 1234", "BAB1234", None),  # a German plate stays as it is, just normalised
    ("无牌车", "", None),
    ("unknown", "", None),
    ("", "", None),
])
def test_normalize(raw: str, plate: str, color: PlateColor | None) -> None:
    result = normalize_plate(raw)
    assert (result.plate, result.prefix_color) == (plate, color)


def test_a_colour_word_that_is_the_plate_is_not_stripped() -> None:
    """黑 (Heilongjiang) is both a colour word and a province: 黑A12345 is a Heilongjiang plate, not black A12345."""
    result = normalize_plate("黑A12345")
    assert (result.plate, result.prefix_color, result.chinese_civil) == ("黑A12345", None, True)
    black = normalize_plate("黑黑A12345")
    assert (black.plate, black.prefix_color, black.chinese_civil) == ("黑A12345", PlateColor.BLACK, True)


@pytest.mark.parametrize(("plate", "civil"), [
    ("皖A7XG66", True), ("京B12345", True), ("粤BD12345", True), ("川A1234学", True), ("川A1234警", True),
    ("皖A7XG6", False), ("皖A7XG6666", False), ("A7XG66", False), ("皖17XG66", False), ("皖A7XO66", False),
    ("BAB1234", False), ("", False),
])
def test_chinese_civil_shape(plate: str, civil: bool) -> None:
    assert is_chinese_civil_plate(plate) is civil
    assert normalize_plate(plate).chinese_civil is civil


def test_foreign_plates_are_flagged_not_rejected() -> None:
    result = normalize_plate("M-AB 1234")
    assert result.plate == "MAB1234" and not result.chinese_civil


@pytest.mark.parametrize(("word", "color"), [
    ("blue", PlateColor.BLUE), ("Yellow", PlateColor.YELLOW), ("green", PlateColor.GREEN),
    ("newEnergy", PlateColor.GREEN), ("white", PlateColor.WHITE), ("black", PlateColor.BLACK),
    ("蓝", PlateColor.BLUE), ("黄绿", PlateColor.GREEN), ("5", PlateColor.BLUE), ("pink", PlateColor.OTHER),
    ("newEnergyGreen", PlateColor.GREEN), ("civilAviationBlack", PlateColor.BLACK), ("yellow_green", PlateColor.GREEN),
    ("", PlateColor.OTHER), (None, PlateColor.OTHER),
])
def test_colour_words(word: str | None, color: PlateColor) -> None:
    assert color_from_word(word) is color


def test_colour_codes() -> None:
    assert [color_from_code(c) for c in (1, 2, 5, 6, 9, 99, 7, None, "")] == [
        PlateColor.BLACK, PlateColor.WHITE, PlateColor.BLUE, PlateColor.YELLOW, PlateColor.GREEN,
        PlateColor.OTHER, PlateColor.OTHER, PlateColor.OTHER, PlateColor.OTHER]
    assert [color_from_code(c, scheme="vzenith") for c in (0, 1, 2, 3, 4, 5, 6, "x")] == [
        PlateColor.OTHER, PlateColor.BLUE, PlateColor.YELLOW, PlateColor.WHITE, PlateColor.BLACK,
        PlateColor.GREEN, PlateColor.GREEN, PlateColor.OTHER]


@pytest.mark.parametrize(("a", "b"), [
    ("皖A7XG06", "皖A7XGO6"), ("皖A7XG06", "皖A7XGD6"), ("皖AO1234", "皖AD1234"), ("皖A11234", "皖AI1234"),
    ("皖A81234", "皖AB1234"), ("皖A21234", "皖AZ1234"), ("皖A51234", "皖AS1234"),
])
def test_confusable_pairs(a: str, b: str) -> None:
    assert confusable(a, b) and confusable(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("皖A7XG66", "皖A7XG66"),  # the same plate is a match, not a near match
    ("皖A7XG66", "皖A7XG67"),  # 6/7 is not an OCR confusion
    ("皖A80000", "皖AB000O"),  # two substitutions
    ("皖A7XG66", "皖A7XG6"),  # lengths differ
])
def test_not_confusable(a: str, b: str) -> None:
    assert not confusable(a, b)


def test_near_matches_keeps_order_and_only_one_substitution() -> None:
    registered = ["皖A7XG66", "皖A7XGB6", "皖A7XG86", "京A7XG86", "皖A7XBB6"]
    assert near_matches("皖A7XG86", registered) == ["皖A7XGB6"]
    assert near_matches("皖A7XGB6", registered) == ["皖A7XG86"]  # 皖A7XBB6: G/B is no OCR confusion
    assert near_matches("皖A7XG66", []) == []
