"""Residents: add, update, suspend, look up. Removal is erasure (see :mod:`hub.privacy.erasure`)."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from enum import Enum
from typing import Final

from hub.exceptions import InvalidInputError, NotFoundError
from hub.privacy.tombstone import tombstone_ref
from hub.residents import validation as v
from hub.residents.models import Resident, ResidentPage, ResidentStatus
from hub.residents.store import Store, transaction


class _Unset(Enum):
    UNSET = "unset"


UNSET: Final = _Unset.UNSET
"""Marks an :meth:`ResidentStore.update_resident` argument the caller does not want to change."""

_ID_BATCH: Final = 500  # ids per IN (...) query, well under SQLite's bound-parameter limit
_ID_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: ids are read aloud and typed
GENERATED_ID_PREFIX: Final = "R-"


def _stored_fields(resident: Resident) -> tuple[object, ...]:
    """The columns full_name .. guardian as stored, in the order the INSERT and UPDATE name them."""
    return (
        resident.full_name,
        resident.household,
        resident.building,
        resident.unit,
        v.to_db_optional(resident.valid_from),
        v.to_db_optional(resident.valid_until),
        resident.status.value,
        int(resident.is_minor),
        resident.guardian,
    )


def resident_from_row(row: sqlite3.Row) -> Resident:
    """Build a :class:`Resident` from a ``residents`` row."""
    return Resident(
        resident_id=row["resident_id"],
        full_name=row["full_name"],
        household=row["household"],
        building=row["building"],
        unit=row["unit"],
        valid_from=v.from_db_optional(row["valid_from"]),
        valid_until=v.from_db_optional(row["valid_until"]),
        status=ResidentStatus(row["status"]),
        is_minor=bool(row["is_minor"]),
        guardian=row["guardian"],
    )


def _check(resident: Resident) -> Resident:
    """Validate every field of a resident as it is about to be stored; returns it with text normalised."""
    checked = replace(
        resident,
        resident_id=v.identifier(resident.resident_id, "resident_id"),
        full_name=v.required_text(resident.full_name, "full_name", max_length=100),
        household=v.text(resident.household, "household", max_length=100, optional=True),
        building=v.text(resident.building, "building", max_length=50, optional=True),
        unit=v.text(resident.unit, "unit", max_length=50, optional=True),
        valid_from=v.optional_datetime(resident.valid_from, "valid_from"),
        valid_until=v.optional_datetime(resident.valid_until, "valid_until"),
        guardian=v.text(resident.guardian, "guardian", max_length=100, optional=True),
    )
    v.period(checked.valid_from, checked.valid_until)
    if not isinstance(resident.status, ResidentStatus):
        raise InvalidInputError(f"status must be one of {[s.value for s in ResidentStatus]}")
    if not isinstance(resident.is_minor, bool):
        raise InvalidInputError("is_minor must be true or false")
    if checked.is_minor and checked.guardian is None:
        # Consent for a minor's face data must come from a guardian, so the guardian must be known first.
        raise InvalidInputError("a minor must have a guardian")
    return checked


class ResidentStore(Store):
    """The resident records themselves."""

    def add_resident(
        self,
        actor: str,
        resident_id: str | None,
        full_name: str,
        *,
        household: str | None = None,
        building: str | None = None,
        unit: str | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        is_minor: bool = False,
        guardian: str | None = None,
        status: ResidentStatus = ResidentStatus.ACTIVE,
    ) -> Resident:
        """Add a resident; raises InvalidInputError if the id is taken or any field is invalid.

        ``resident_id`` None (or empty) generates an id (``R-`` and six random letters and digits, never one a
        resident or an erased resident had)."""
        actor = v.actor(actor)
        generate = resident_id is None or (isinstance(resident_id, str) and not resident_id.strip())
        resident = _check(
            Resident(
                GENERATED_ID_PREFIX + "2" * 6 if generate else resident_id,  # type: ignore[arg-type]
                full_name, household, building, unit, valid_from, valid_until, status, is_minor, guardian,
            )
        )
        now = self._clock()
        with transaction(self._conn) as conn:
            if generate:
                resident = replace(resident, resident_id=self._fresh_id(conn))
            if conn.execute("SELECT 1 FROM residents WHERE resident_id = ?", (resident.resident_id,)).fetchone():
                raise InvalidInputError(f"resident_id {resident.resident_id!r} already exists")
            if conn.execute(
                "SELECT 1 FROM resident_tombstones WHERE subject_ref = ?", (self._tombstone_ref(resident),)
            ).fetchone():
                # Reusing an erased person's id would blur the erasure receipt; ids must be fresh.
                raise InvalidInputError(f"resident_id {resident.resident_id!r} belonged to an erased resident")
            conn.execute(
                "INSERT INTO residents (resident_id, full_name, household, building, unit, valid_from, valid_until,"
                " status, is_minor, guardian, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (resident.resident_id, *_stored_fields(resident), v.to_db(now), v.to_db(now)),
            )
        self._audit(actor, "resident.add", now, {"resident_id": resident.resident_id})
        return resident

    def update_resident(
        self,
        actor: str,
        resident_id: str,
        *,
        full_name: str | _Unset = UNSET,
        household: str | _Unset | None = UNSET,
        building: str | _Unset | None = UNSET,
        unit: str | _Unset | None = UNSET,
        valid_from: datetime | _Unset | None = UNSET,
        valid_until: datetime | _Unset | None = UNSET,
        is_minor: bool | _Unset = UNSET,
        guardian: str | _Unset | None = UNSET,
        status: ResidentStatus | _Unset = UNSET,
    ) -> Resident:
        """Change the given fields (others keep their value); suspend with ``status=ResidentStatus.SUSPENDED``."""
        actor = v.actor(actor)
        resident_id = v.identifier(resident_id, "resident_id")
        changes: dict[str, object] = {
            name: value
            for name, value in {
                "full_name": full_name,
                "household": household,
                "building": building,
                "unit": unit,
                "valid_from": valid_from,
                "valid_until": valid_until,
                "is_minor": is_minor,
                "guardian": guardian,
                "status": status,
            }.items()
            if value is not UNSET
        }
        if not changes:
            raise InvalidInputError("update_resident needs at least one field to change")
        now = self._clock()
        with transaction(self._conn) as conn:
            current = resident_from_row(self._require_resident(conn, resident_id))
            updated = _check(replace(current, **changes))  # type: ignore[arg-type]
            conn.execute(
                "UPDATE residents SET full_name=?, household=?, building=?, unit=?, valid_from=?, valid_until=?,"
                " status=?, is_minor=?, guardian=?, updated_at=? WHERE resident_id=?",
                (*_stored_fields(updated), v.to_db(now), resident_id),
            )
        self._audit(actor, "resident.update", now, {"resident_id": resident_id, "fields": sorted(changes)})
        return updated

    def get_resident(self, resident_id: str) -> Resident:
        """The resident with this id; NotFoundError if there is none."""
        row = self._conn.execute("SELECT * FROM residents WHERE resident_id = ?", (resident_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no resident {resident_id!r}")
        return resident_from_row(row)

    def count_residents(self) -> int:
        """How many residents the registry holds (kept by the database as rows come and go: nothing counted)."""
        (count,) = self._conn.execute("SELECT value FROM resident_counts WHERE name = 'residents'").fetchone()
        return int(count)

    def list_residents(self) -> list[Resident]:
        """Every resident, ordered by id."""
        return [resident_from_row(r) for r in self._conn.execute("SELECT * FROM residents ORDER BY resident_id")]

    def search_residents(self, query: str = "", *, offset: int = 0, limit: int = 50) -> ResidentPage:
        """Residents whose id, name, household, building or unit hold every word of ``query`` (any case), ordered
        by name: the page from ``offset`` of at most ``limit``, and how many matched in all."""
        words = query.casefold().split()

        def matches(r: Resident) -> bool:
            text = " ".join(filter(None, (r.resident_id, r.full_name, r.household, r.building, r.unit))).casefold()
            return all(word in text for word in words)

        found = sorted(
            (r for r in self.list_residents() if matches(r)), key=lambda r: (r.full_name.casefold(), r.resident_id)
        )
        return ResidentPage(total=len(found), residents=found[max(offset, 0) : max(offset, 0) + max(limit, 0)])

    def full_names(self, resident_ids: Iterable[str]) -> dict[str, str]:
        """The names of those of these residents who exist (an erased resident is absent: logs keep only ids)."""
        wanted = sorted(set(resident_ids))
        names: dict[str, str] = {}
        for start in range(0, len(wanted), _ID_BATCH):
            batch = wanted[start : start + _ID_BATCH]
            marks = ",".join("?" * len(batch))
            rows = self._conn.execute(
                f"SELECT resident_id, full_name FROM residents WHERE resident_id IN ({marks})",
                batch,
            )
            names.update((row["resident_id"], row["full_name"]) for row in rows)
        return names

    def _fresh_id(self, conn: sqlite3.Connection) -> str:
        """A random resident id nobody has or had (random: ids say nothing about who was added when)."""
        while True:
            candidate = GENERATED_ID_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(6))
            taken = conn.execute("SELECT 1 FROM residents WHERE resident_id = ?", (candidate,)).fetchone()
            if taken is None and conn.execute(
                "SELECT 1 FROM resident_tombstones WHERE subject_ref = ?",
                (tombstone_ref(self._keys.tombstone, candidate),),
            ).fetchone() is None:
                return candidate

    def _tombstone_ref(self, resident: Resident) -> str:
        return tombstone_ref(self._keys.tombstone, resident.resident_id)
