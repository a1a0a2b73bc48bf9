"""Doors, access rules and the holiday calendar: manager actions (validated, audited) and loaders for decide."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time

from hub.access.gates import validate_door, validate_face_windows
from hub.access.models import AccessRule, CredentialKind, Door, FaceAssurance, FaceAssuranceWindow, Side
from hub.access.schedule import parse_hhmm
from hub.exceptions import InvalidInputError, NotFoundError
from hub.privacy.audit import AuditHook, AuditRecord, emit
from hub.residents import validation as v
from hub.residents.store import Clock, transaction, utc_now


def door_from_row(row: sqlite3.Row) -> Door:
    """Build a :class:`Door` from a ``doors`` row."""
    return Door(
        door_id=row["door_id"],
        name=row["name"],
        gate_id=row["gate_id"],
        side=None if row["side"] is None else Side(row["side"]),
        accepts=frozenset(CredentialKind(k) for k in row["accepts"].split(",") if k),
        locked_down=bool(row["locked_down"]),
        anti_passback=bool(row["anti_passback"]),
        face_assurance=FaceAssurance(row["face_assurance"]),
        face_windows=windows_from_json(row["face_windows"]),
    )


def windows_to_json(windows: Sequence[FaceAssuranceWindow]) -> str:
    """Face assurance windows as the ``doors.face_windows`` column keeps them."""
    return json.dumps([
        {"level": w.level.value, "start": w.start.strftime("%H:%M"), "end": w.end.strftime("%H:%M"),
         "weekdays": "".join(str(d) for d in sorted(w.weekdays))}
        for w in windows
    ])


def windows_from_json(value: str) -> tuple[FaceAssuranceWindow, ...]:
    """The ``doors.face_windows`` column back as windows."""
    return tuple(
        FaceAssuranceWindow(
            level=FaceAssurance(w["level"]), start=parse_hhmm(w["start"]), end=parse_hhmm(w["end"]),
            weekdays=frozenset(int(d) for d in w["weekdays"]),
        )
        for w in json.loads(value or "[]")
    )


def load_door(conn: sqlite3.Connection, door_id: str) -> Door | None:
    """The door with this id, or ``None``."""
    row = conn.execute("SELECT * FROM doors WHERE door_id = ?", (door_id,)).fetchone()
    return None if row is None else door_from_row(row)


def _set(conn: sqlite3.Connection, sql: str, rule_id: str) -> frozenset[str]:
    return frozenset(r[0] for r in conn.execute(sql, (rule_id,)))


def rule_from_row(conn: sqlite3.Connection, row: sqlite3.Row) -> AccessRule:
    """Build an :class:`AccessRule` from an ``access_rules`` row and its door/resident/building sets."""
    rule_id = row["rule_id"]
    return AccessRule(
        rule_id=rule_id,
        door_ids=_set(conn, "SELECT door_id FROM rule_doors WHERE rule_id = ?", rule_id),
        weekdays=frozenset(int(d) for d in row["weekdays"]),
        start=parse_hhmm(row["start_time"]),
        end=parse_hhmm(row["end_time"]),
        on_holidays=bool(row["on_holidays"]),
        applies_to_all=bool(row["applies_to_all"]),
        resident_ids=_set(conn, "SELECT resident_id FROM rule_residents WHERE rule_id = ?", rule_id),
        buildings=_set(conn, "SELECT building FROM rule_buildings WHERE rule_id = ?", rule_id),
    )


def load_rules_for_door(conn: sqlite3.Connection, door_id: str) -> tuple[AccessRule, ...]:
    """Every rule that names this door."""
    rows = conn.execute(
        "SELECT r.* FROM access_rules r JOIN rule_doors d ON d.rule_id = r.rule_id WHERE d.door_id = ?"
        " ORDER BY r.rule_id",
        (door_id,),
    ).fetchall()
    return tuple(rule_from_row(conn, r) for r in rows)


def load_holidays(conn: sqlite3.Connection) -> frozenset[date]:
    """The holiday calendar (a community has a few dozen days a year at most)."""
    return frozenset(date.fromisoformat(r[0]) for r in conn.execute("SELECT day FROM holidays"))


def _check_rule(rule: AccessRule) -> AccessRule:
    v.identifier(rule.rule_id, "rule_id")
    for field, values in (("door_ids", rule.door_ids), ("resident_ids", rule.resident_ids)):
        if not isinstance(values, frozenset):
            raise InvalidInputError(f"{field} must be a frozenset")
        for value in values:
            v.identifier(value, f"{field}[]")
    if not rule.door_ids:
        raise InvalidInputError("a rule must name at least one door")
    if not isinstance(rule.buildings, frozenset):
        raise InvalidInputError("buildings must be a frozenset")
    for building in rule.buildings:
        v.required_text(building, "buildings[]", max_length=50)
    if not isinstance(rule.weekdays, frozenset) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in rule.weekdays
    ):
        raise InvalidInputError("weekdays must be a set of numbers 0 (Monday) to 6 (Sunday)")
    for label, moment in (("start", rule.start), ("end", rule.end)):
        if not isinstance(moment, time) or moment.tzinfo is not None or moment.second or moment.microsecond:
            raise InvalidInputError(f"{label} must be a local time of day in whole minutes")
    if not rule.applies_to_all and not rule.resident_ids and not rule.buildings:
        raise InvalidInputError("a rule must apply to everyone, to some residents or to some buildings")
    if not rule.weekdays and not rule.on_holidays:
        raise InvalidInputError("a rule with no weekdays must apply on holidays, or it never applies")
    return rule


class AccessConfigStore:
    """Manager actions on doors, rules and holidays."""

    def __init__(self, conn: sqlite3.Connection, *, on_audit: AuditHook | None = None, clock: Clock = utc_now) -> None:
        self._conn = conn
        self._on_audit = on_audit
        self._clock = clock

    def _audit(self, actor: str, action: str, details: Mapping[str, object]) -> None:
        emit(self._on_audit, AuditRecord(actor, action, self._clock(), dict(details)))

    def put_door(self, actor: str, door: Door) -> Door:
        """Add a door or replace its configuration."""
        actor = v.actor(actor)
        if not isinstance(door, Door):
            raise InvalidInputError("door must be a Door")
        door = validate_door(door)
        now = self._clock()
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO doors (door_id, name, gate_id, side, accepts, locked_down, anti_passback,"
                " face_assurance, face_windows, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (door_id) DO UPDATE SET name=excluded.name,"
                " gate_id=excluded.gate_id, side=excluded.side, accepts=excluded.accepts,"
                " locked_down=excluded.locked_down, anti_passback=excluded.anti_passback,"
                " face_assurance=excluded.face_assurance, face_windows=excluded.face_windows,"
                " updated_at=excluded.updated_at",
                (
                    door.door_id,
                    door.name,
                    door.gate_id,
                    None if door.side is None else door.side.value,
                    ",".join(sorted(k.value for k in door.accepts)),
                    int(door.locked_down),
                    int(door.anti_passback),
                    door.face_assurance.value,
                    windows_to_json(door.face_windows),
                    v.to_db(now),
                ),
            )
        self._audit(actor, "door.put", {"door_id": door.door_id, "accepts": sorted(k.value for k in door.accepts)})
        return door

    def get_door(self, door_id: str) -> Door:
        """The door with this id; NotFoundError if there is none."""
        door = load_door(self._conn, door_id)
        if door is None:
            raise NotFoundError(f"no door {door_id!r}")
        return door

    def list_doors(self) -> list[Door]:
        """Every door, by id."""
        return [door_from_row(r) for r in self._conn.execute("SELECT * FROM doors ORDER BY door_id")]

    def set_lockdown(self, actor: str, door_id: str, locked_down: bool) -> Door:
        """Lock a door down (every credential denied) or lift the lockdown."""
        actor = v.actor(actor)
        door_id = v.identifier(door_id, "door_id")
        if not isinstance(locked_down, bool):
            raise InvalidInputError("locked_down must be true or false")
        with transaction(self._conn) as conn:
            if (
                conn.execute(
                    "UPDATE doors SET locked_down = ?, updated_at = ? WHERE door_id = ?",
                    (int(locked_down), v.to_db(self._clock()), door_id),
                ).rowcount
                == 0
            ):
                raise NotFoundError(f"no door {door_id!r}")
        self._audit(actor, "door.lockdown" if locked_down else "door.lockdown_lifted", {"door_id": door_id})
        return self.get_door(door_id)

    def set_face_assurance(
        self,
        actor: str,
        door_id: str,
        level: FaceAssurance,
        windows: Sequence[FaceAssuranceWindow] = (),
    ) -> Door:
        """What a face may do at a door (outside the windows, and in each window): audited with the levels."""
        actor = v.actor(actor)
        door_id = v.identifier(door_id, "door_id")
        if not isinstance(level, FaceAssurance):
            raise InvalidInputError(f"level must be one of {[x.value for x in FaceAssurance]}")
        checked = validate_face_windows(tuple(windows))
        with transaction(self._conn) as conn:
            if (
                conn.execute(
                    "UPDATE doors SET face_assurance = ?, face_windows = ?, updated_at = ? WHERE door_id = ?",
                    (level.value, windows_to_json(checked), v.to_db(self._clock()), door_id),
                ).rowcount
                == 0
            ):
                raise NotFoundError(f"no door {door_id!r}")
        self._audit(actor, "door.face_assurance", {
            "door_id": door_id, "level": level.value,
            "windows": [f"{w.level.value} {w.start:%H:%M}-{w.end:%H:%M}" for w in checked],
        })
        return self.get_door(door_id)

    def add_rule(self, actor: str, rule: AccessRule, *, name: str) -> AccessRule:
        """Add an access rule; its doors must exist."""
        actor = v.actor(actor)
        if not isinstance(rule, AccessRule):
            raise InvalidInputError("rule must be an AccessRule")
        rule = _check_rule(rule)
        rule_name = v.required_text(name, "name", max_length=100)
        with transaction(self._conn) as conn:
            if conn.execute("SELECT 1 FROM access_rules WHERE rule_id = ?", (rule.rule_id,)).fetchone():
                raise InvalidInputError(f"rule_id {rule.rule_id!r} already exists")
            known = {r[0] for r in conn.execute("SELECT door_id FROM doors")}
            if rule.door_ids - known:
                raise InvalidInputError(f"unknown doors: {sorted(rule.door_ids - known)}")
            conn.execute(
                "INSERT INTO access_rules (rule_id, name, weekdays, start_time, end_time, on_holidays,"
                " applies_to_all) VALUES (?,?,?,?,?,?,?)",
                (
                    rule.rule_id,
                    rule_name,
                    "".join(str(d) for d in sorted(rule.weekdays)),
                    rule.start.strftime("%H:%M"),
                    rule.end.strftime("%H:%M"),
                    int(rule.on_holidays),
                    int(rule.applies_to_all),
                ),
            )
            conn.executemany("INSERT INTO rule_doors VALUES (?, ?)", [(rule.rule_id, d) for d in rule.door_ids])
            conn.executemany("INSERT INTO rule_residents VALUES (?, ?)", [(rule.rule_id, r) for r in rule.resident_ids])
            conn.executemany("INSERT INTO rule_buildings VALUES (?, ?)", [(rule.rule_id, b) for b in rule.buildings])
        self._audit(actor, "rule.add", {"rule_id": rule.rule_id, "doors": sorted(rule.door_ids)})
        return rule

    def remove_rule(self, actor: str, rule_id: str) -> None:
        """Delete a rule."""
        actor = v.actor(actor)
        rule_id = v.identifier(rule_id, "rule_id")
        with transaction(self._conn) as conn:
            if conn.execute("DELETE FROM access_rules WHERE rule_id = ?", (rule_id,)).rowcount == 0:
                raise NotFoundError(f"no rule {rule_id!r}")
        self._audit(actor, "rule.remove", {"rule_id": rule_id})

    def list_rules(self) -> list[AccessRule]:
        """Every rule, by id."""
        rows = self._conn.execute("SELECT * FROM access_rules ORDER BY rule_id").fetchall()
        return [rule_from_row(self._conn, r) for r in rows]

    def rule_names(self) -> dict[str, str]:
        """Each rule's name (what the manager called it), by rule id."""
        return {str(r[0]): str(r[1]) for r in self._conn.execute("SELECT rule_id, name FROM access_rules")}

    def add_holiday(self, actor: str, day: date, name: str) -> None:
        """Add a day to the holiday calendar (replacing its name if present)."""
        actor = v.actor(actor)
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidInputError("day must be a date (not a datetime)")
        holiday = v.required_text(name, "name", max_length=100)
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO holidays (day, name) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET name=excluded.name",
                (day.isoformat(), holiday),
            )
        self._audit(actor, "holiday.add", {"day": day.isoformat(), "name": holiday})

    def remove_holiday(self, actor: str, day: date) -> None:
        """Remove a day from the holiday calendar."""
        actor = v.actor(actor)
        if not isinstance(day, date):
            raise InvalidInputError("day must be a date")
        with transaction(self._conn) as conn:
            if conn.execute("DELETE FROM holidays WHERE day = ?", (day.isoformat(),)).rowcount == 0:
                raise NotFoundError(f"{day.isoformat()} is not a holiday")
        self._audit(actor, "holiday.remove", {"day": day.isoformat()})

    def list_holidays(self) -> dict[date, str]:
        """The holiday calendar."""
        return {date.fromisoformat(r[0]): r[1] for r in self._conn.execute("SELECT day, name FROM holidays")}
