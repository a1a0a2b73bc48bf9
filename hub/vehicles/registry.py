"""The vehicle registry: residents' vehicles, monthly vehicles, visitors' vehicles invited by a resident, and the
white and black lists. Every action validates all of its input before its transaction, so bad input changes
nothing; each is audited after it commits (run them on the community's writer, like every write)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from devices.anpr import PlateColor
from devices.anpr.plates import near_candidates, normalize_plate, plate_problem
from hub.access.models import VehicleStanding, VisitorWindow
from hub.exceptions import InvalidInputError, NotFoundError
from hub.residents import validation as v
from hub.residents.models import ResidentStatus
from hub.residents.store import Store, new_id, transaction

from .models import ListedPlate, MonthlyVehicle, PlateList, ResidentVehicle, VisitorVehicle

MAX_INVITATION = timedelta(days=31)
MAX_MONTHLY = timedelta(days=3 * 366)


def checked_plate(text: object, field: str = "plate") -> str:
    """The normalised plate (``devices.anpr.plates``), or InvalidInputError saying why it cannot be registered."""
    if not isinstance(text, str):
        raise InvalidInputError(f"{field} must be text, got {type(text).__name__}")
    plate = normalize_plate(text).plate
    problem = plate_problem(plate)
    if problem is not None:
        raise InvalidInputError(f"{field} must not be empty" if not text.strip() else
                                f"{field} {text!r} {problem}" if plate else f"{field} {text!r} is not a plate")
    return plate


def plate_color(value: object) -> PlateColor:
    """A plate colour by its GA/T 1400 code (1 black, 2 white, 5 blue, 6 yellow, 9 green, 99 other)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"plate_color must be a GA/T 1400 colour code, got {value!r}")
    try:
        return PlateColor(value)
    except ValueError:
        codes = ", ".join(f"{c.value} {c.name.lower()}" for c in PlateColor)
        raise InvalidInputError(f"plate_color {value!r} is not one of {codes}") from None


def _resident_vehicle(row: sqlite3.Row) -> ResidentVehicle:
    return ResidentVehicle(row["vehicle_id"], row["resident_id"], row["plate"], PlateColor(row["plate_color"]),
                           v.from_db(row["added_at"]))


def _monthly(row: sqlite3.Row) -> MonthlyVehicle:
    return MonthlyVehicle(row["vehicle_id"], row["plate"], PlateColor(row["plate_color"]),
                          v.from_db(row["valid_from"]), v.from_db(row["valid_until"]), row["holder"],
                          v.from_db(row["added_at"]))


def _visitor(row: sqlite3.Row) -> VisitorVehicle:
    return VisitorVehicle(row["invitation_id"], row["resident_id"], row["plate"], PlateColor(row["plate_color"]),
                          v.from_db(row["valid_from"]), v.from_db(row["valid_until"]),
                          v.from_db_optional(row["revoked_at"]), v.from_db(row["created_at"]))


class VehicleRegistry(Store):
    """Register, list and remove the community's vehicles (plates are stored normalised)."""

    # ---- residents' vehicles ------------------------------------------------------------------------------

    def add_resident_vehicle(self, actor: str, resident_id: str, plate: str,
                             color: PlateColor | int = PlateColor.BLUE) -> ResidentVehicle:
        """Register a resident's vehicle; InvalidInputError for a bad plate or one already theirs, NotFoundError
        for an unknown resident."""
        actor = v.actor(actor)
        resident_id = v.identifier(resident_id, "resident_id")
        plate = checked_plate(plate)
        colour = plate_color(color)
        now = self._clock()
        vehicle_id = new_id("veh")
        with transaction(self._conn) as conn:
            self._require_resident(conn, resident_id)
            if conn.execute("SELECT 1 FROM resident_vehicles WHERE resident_id = ? AND plate = ?",
                            (resident_id, plate)).fetchone():
                raise InvalidInputError(f"{plate} is already registered to resident {resident_id!r}")
            conn.execute(
                "INSERT INTO resident_vehicles (vehicle_id, resident_id, plate, plate_color, added_at)"
                " VALUES (?,?,?,?,?)", (vehicle_id, resident_id, plate, int(colour), v.to_db(now)))
        self._audit(actor, "vehicle.add", now, {"vehicle_id": vehicle_id, "resident_id": resident_id})
        return ResidentVehicle(vehicle_id, resident_id, plate, colour, v.from_db(v.to_db(now)))

    def remove_resident_vehicle(self, actor: str, vehicle_id: str) -> None:
        """Take a resident's vehicle off the registry."""
        actor = v.actor(actor)
        vehicle_id = v.identifier(vehicle_id, "vehicle_id")
        now = self._clock()
        with transaction(self._conn) as conn:
            row = conn.execute("SELECT resident_id FROM resident_vehicles WHERE vehicle_id = ?",
                               (vehicle_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no resident vehicle {vehicle_id!r}")
            conn.execute("DELETE FROM resident_vehicles WHERE vehicle_id = ?", (vehicle_id,))
        self._audit(actor, "vehicle.remove", now, {"vehicle_id": vehicle_id, "resident_id": row["resident_id"]})

    def resident_vehicles(self, resident_id: str | None = None) -> list[ResidentVehicle]:
        """Residents' vehicles (all, or one resident's), by plate."""
        if resident_id is None:
            rows = self._conn.execute("SELECT * FROM resident_vehicles ORDER BY plate, resident_id")
        else:
            rows = self._conn.execute("SELECT * FROM resident_vehicles WHERE resident_id = ? ORDER BY plate",
                                      (resident_id,))
        return [_resident_vehicle(r) for r in rows]

    # ---- monthly vehicles ---------------------------------------------------------------------------------

    def add_monthly_vehicle(self, actor: str, plate: str, color: PlateColor | int = PlateColor.BLUE, *,
                            valid_from: datetime, valid_until: datetime,
                            holder: str | None = None) -> MonthlyVehicle:
        """Register a monthly vehicle for a period (a renewal is a new period for the same plate)."""
        actor = v.actor(actor)
        plate = checked_plate(plate)
        colour = plate_color(color)
        valid_from = v.aware_datetime(valid_from, "valid_from")
        valid_until = v.aware_datetime(valid_until, "valid_until")
        v.period(valid_from, valid_until, "monthly period")
        if valid_until - valid_from > MAX_MONTHLY:
            raise InvalidInputError("a monthly period may be at most three years")
        note = v.text(holder, "holder", max_length=100, optional=True)
        now = self._clock()
        vehicle_id = new_id("mon")
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO monthly_vehicles (vehicle_id, plate, plate_color, holder, valid_from, valid_until,"
                " added_at) VALUES (?,?,?,?,?,?,?)",
                (vehicle_id, plate, int(colour), note, v.to_db(valid_from), v.to_db(valid_until), v.to_db(now)))
            row = conn.execute("SELECT * FROM monthly_vehicles WHERE vehicle_id = ?", (vehicle_id,)).fetchone()
        self._audit(actor, "vehicle.monthly_add", now, {"vehicle_id": vehicle_id})
        return _monthly(row)

    def remove_monthly_vehicle(self, actor: str, vehicle_id: str) -> None:
        """Take a monthly period off the registry."""
        actor = v.actor(actor)
        vehicle_id = v.identifier(vehicle_id, "vehicle_id")
        now = self._clock()
        with transaction(self._conn) as conn:
            if conn.execute("DELETE FROM monthly_vehicles WHERE vehicle_id = ?", (vehicle_id,)).rowcount == 0:
                raise NotFoundError(f"no monthly vehicle {vehicle_id!r}")
        self._audit(actor, "vehicle.monthly_remove", now, {"vehicle_id": vehicle_id})

    def monthly_vehicles(self) -> list[MonthlyVehicle]:
        """Every monthly period, by plate then start."""
        return [_monthly(r) for r in self._conn.execute("SELECT * FROM monthly_vehicles ORDER BY plate, valid_from")]

    # ---- visitors' vehicles -------------------------------------------------------------------------------

    def invite_vehicle(self, actor: str, resident_id: str, plate: str, color: PlateColor | int = PlateColor.BLUE,
                       *, valid_from: datetime, valid_until: datetime) -> VisitorVehicle:
        """A resident invites a visitor's vehicle for a time window (at most 31 days, not over yet)."""
        actor = v.actor(actor)
        resident_id = v.identifier(resident_id, "resident_id")
        plate = checked_plate(plate)
        colour = plate_color(color)
        valid_from = v.aware_datetime(valid_from, "valid_from")
        valid_until = v.aware_datetime(valid_until, "valid_until")
        v.period(valid_from, valid_until, "invitation window")
        if valid_until - valid_from > MAX_INVITATION:
            raise InvalidInputError(f"a vehicle invitation may be for at most {MAX_INVITATION.days} days")
        now = self._clock()
        if valid_until <= now:
            raise InvalidInputError("valid_until is in the past")
        invitation_id = new_id("vinv")
        with transaction(self._conn) as conn:
            resident = self._require_resident(conn, resident_id)
            if resident["status"] != ResidentStatus.ACTIVE.value:
                raise InvalidInputError(f"resident {resident_id!r} is suspended and cannot invite vehicles")
            conn.execute(
                "INSERT INTO visitor_vehicles (invitation_id, resident_id, plate, plate_color, valid_from,"
                " valid_until, created_at) VALUES (?,?,?,?,?,?,?)",
                (invitation_id, resident_id, plate, int(colour), v.to_db(valid_from), v.to_db(valid_until),
                 v.to_db(now)))
            row = conn.execute("SELECT * FROM visitor_vehicles WHERE invitation_id = ?", (invitation_id,)).fetchone()
        self._audit(actor, "vehicle.invite", now, {"invitation_id": invitation_id, "resident_id": resident_id})
        return _visitor(row)

    def revoke_invitation(self, actor: str, invitation_id: str) -> VisitorVehicle:
        """Withdraw an invitation; the vehicle is refused as revoked from now on."""
        actor = v.actor(actor)
        invitation_id = v.identifier(invitation_id, "invitation_id")
        now = self._clock()
        with transaction(self._conn) as conn:
            row = conn.execute("SELECT * FROM visitor_vehicles WHERE invitation_id = ?", (invitation_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no vehicle invitation {invitation_id!r}")
            if row["revoked_at"] is not None:
                raise InvalidInputError(f"vehicle invitation {invitation_id!r} is already revoked")
            conn.execute("UPDATE visitor_vehicles SET revoked_at = ? WHERE invitation_id = ?",
                         (v.to_db(now), invitation_id))
            row = conn.execute("SELECT * FROM visitor_vehicles WHERE invitation_id = ?", (invitation_id,)).fetchone()
        self._audit(actor, "vehicle.revoke_invitation", now,
                    {"invitation_id": invitation_id, "resident_id": row["resident_id"]})
        return _visitor(row)

    def invitations(self, resident_id: str | None = None) -> list[VisitorVehicle]:
        """Vehicle invitations (all, or one resident's), newest first."""
        if resident_id is None:
            rows = self._conn.execute("SELECT * FROM visitor_vehicles ORDER BY created_at DESC")
        else:
            rows = self._conn.execute("SELECT * FROM visitor_vehicles WHERE resident_id = ?"
                                      " ORDER BY created_at DESC", (resident_id,))
        return [_visitor(r) for r in rows]

    # ---- white and black lists ----------------------------------------------------------------------------

    def list_plate(self, actor: str, plate: str, plate_list: PlateList | str, note: str | None = None) -> ListedPlate:
        """Put a plate on the white or the black list (a plate is on one list at most: this moves it)."""
        actor = v.actor(actor)
        plate = checked_plate(plate)
        try:
            which = PlateList(plate_list)
        except ValueError:
            raise InvalidInputError(f"list must be one of {[p.value for p in PlateList]}, got {plate_list!r}") from None
        text = v.text(note, "note", max_length=200, optional=True)
        now = self._clock()
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO vehicle_lists (plate, list, note, added_at) VALUES (?,?,?,?)"
                " ON CONFLICT (plate) DO UPDATE SET list=excluded.list, note=excluded.note, added_at=excluded.added_at",
                (plate, which.value, text, v.to_db(now)))
        self._audit(actor, f"vehicle.{which.value}_list", now, {"list": which.value})
        return ListedPlate(plate, which, text, v.from_db(v.to_db(now)))

    def unlist_plate(self, actor: str, plate: str) -> None:
        """Take a plate off whichever list it is on."""
        actor = v.actor(actor)
        plate = checked_plate(plate)
        now = self._clock()
        with transaction(self._conn) as conn:
            if conn.execute("DELETE FROM vehicle_lists WHERE plate = ?", (plate,)).rowcount == 0:
                raise NotFoundError("that plate is on no list")
        self._audit(actor, "vehicle.unlist", now, {})

    def listed_plates(self, plate_list: PlateList | None = None) -> list[ListedPlate]:
        """The plates on the lists (or one list), by plate."""
        rows = self._conn.execute("SELECT * FROM vehicle_lists ORDER BY plate").fetchall()
        found = [ListedPlate(r["plate"], PlateList(r["list"]), r["note"], v.from_db(r["added_at"])) for r in rows]
        return [p for p in found if plate_list is None or p.list is plate_list]


# ---- what a decision needs about a plate (read inside the decision's transaction) -----------------------------


def is_black_listed(conn: sqlite3.Connection, plate: str) -> bool:
    """Whether the plate is on the black list."""
    row = conn.execute("SELECT 1 FROM vehicle_lists WHERE plate = ? AND list = 'black'", (plate,)).fetchone()
    return row is not None


def _resident_usable(row: sqlite3.Row, now: datetime) -> bool:
    if row["status"] != ResidentStatus.ACTIVE.value:
        return False
    start, end = v.from_db_optional(row["valid_from"]), v.from_db_optional(row["valid_until"])
    return (start is None or start <= now) and (end is None or now < end)


def standing_of(conn: sqlite3.Connection, plate: str, now: datetime) -> VehicleStanding | None:
    """Everything the registry holds about one plate at ``now``, or ``None`` when it holds nothing."""
    white = conn.execute("SELECT 1 FROM vehicle_lists WHERE plate = ? AND list = 'white'", (plate,)).fetchone()
    owners = conn.execute(
        "SELECT rv.resident_id, r.status, r.valid_from, r.valid_until FROM resident_vehicles rv"
        " LEFT JOIN residents r ON r.resident_id = rv.resident_id WHERE rv.plate = ? ORDER BY rv.added_at",
        (plate,)).fetchall()
    monthly = conn.execute(
        "SELECT valid_from, valid_until FROM monthly_vehicles WHERE plate = ? ORDER BY valid_until DESC",
        (plate,)).fetchall()
    invitations = conn.execute(
        "SELECT * FROM visitor_vehicles WHERE plate = ? ORDER BY valid_from", (plate,)).fetchall()
    if white is None and not owners and not monthly and not invitations:
        return None
    resident_id = None
    active = True
    if owners:
        # A car two residents share: it is let in if any of them is an active resident.
        usable = [o for o in owners if _resident_usable(o, now)]
        chosen = usable[0] if usable else owners[0]
        resident_id = chosen["resident_id"]
        active = bool(usable)
    # decide checks the period: hand it the one that covers now, else the latest.
    current = [m for m in monthly if v.from_db(m["valid_from"]) <= now < v.from_db(m["valid_until"])]
    monthly = current or monthly
    return VehicleStanding(
        plate=plate,
        white_listed=white is not None,
        resident_id=resident_id,
        resident_active=active,
        monthly_from=v.from_db(monthly[0]["valid_from"]) if monthly else None,
        monthly_until=v.from_db(monthly[0]["valid_until"]) if monthly else None,
        invitations=tuple(
            VisitorWindow(r["invitation_id"], r["resident_id"], v.from_db(r["valid_from"]),
                          v.from_db(r["valid_until"]), r["revoked_at"] is not None) for r in invitations),
    )


def near_standing(conn: sqlite3.Connection, plate: str, now: datetime) -> VehicleStanding | None:
    """The standing of the registered plate one OCR confusion away from ``plate``, if there is exactly one: a read
    that could be either of two registered plates stands for neither."""
    found = [s for s in (standing_of(conn, c, now) for c in near_candidates(plate)) if s is not None]
    return found[0] if len(found) == 1 else None
