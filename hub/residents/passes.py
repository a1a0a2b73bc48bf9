"""Visitor passes: a resident issues a time-limited pass for given doors, usable once or N times; revocable. A pass
can be handed to the visitor as its QR code, as a card image (the code with the visitor's name, the window, the
gates and the community) or as a link that shows the pass without a login while it can still be used."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo

from hub.exceptions import InvalidInputError, NotFoundError
from hub.residents import validation as v
from hub.residents.models import IssuedPass, ResidentStatus, VisitorPass
from hub.residents.pass_token import sign_link, sign_token, verify_link
from hub.residents.qr import render_pass_card_png, render_qr_png
from hub.residents.store import Store, new_id, transaction

MAX_PASS_VALIDITY = timedelta(days=31)
MAX_PASS_USES = 100


def pass_from_row(conn: sqlite3.Connection, row: sqlite3.Row) -> VisitorPass:
    """Build a :class:`VisitorPass` from a ``visitor_passes`` row and its doors."""
    doors = conn.execute("SELECT door_id FROM pass_doors WHERE pass_id = ?", (row["pass_id"],)).fetchall()
    return VisitorPass(
        pass_id=row["pass_id"],
        issued_by=row["issued_by"],
        visitor_name=row["visitor_name"],
        door_ids=frozenset(d["door_id"] for d in doors),
        valid_from=v.from_db(row["valid_from"]),
        valid_until=v.from_db(row["valid_until"]),
        max_uses=int(row["max_uses"]),
        uses=int(row["uses"]),
        revoked_at=v.from_db_optional(row["revoked_at"]),
        created_at=v.from_db(row["created_at"]),
    )


def load_pass(conn: sqlite3.Connection, pass_id: str) -> VisitorPass | None:
    """The pass with this id, or ``None``."""
    row = conn.execute("SELECT * FROM visitor_passes WHERE pass_id = ?", (pass_id,)).fetchone()
    return None if row is None else pass_from_row(conn, row)


def _check_doors(door_ids: object) -> frozenset[str]:
    if isinstance(door_ids, str) or not isinstance(door_ids, Iterable):
        raise InvalidInputError("door_ids must be a list of door ids")
    doors = frozenset(v.identifier(d, "door_ids[]") for d in door_ids)
    if not doors:
        raise InvalidInputError("a pass must be for at least one door")
    return doors


def _unknown_doors(conn: sqlite3.Connection, doors: frozenset[str]) -> set[str]:
    """Doors not configured, if the access component's door table is present in this database."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'doors'").fetchone() is None:
        return set()
    known = {r["door_id"] for r in conn.execute("SELECT door_id FROM doors")}
    return set(doors - known)


class VisitorPassStore(Store):
    """Issue, revoke and list visitor passes."""

    def issue_pass(
        self,
        actor: str,
        issued_by: str,
        visitor_name: str,
        door_ids: Iterable[str],
        *,
        valid_from: datetime,
        valid_until: datetime,
        max_uses: int = 1,
    ) -> IssuedPass:
        """Issue a pass on behalf of resident ``issued_by``; returns the record, its token and QR code PNG."""
        actor = v.actor(actor)
        issued_by = v.identifier(issued_by, "issued_by")
        visitor = v.required_text(visitor_name, "visitor_name", max_length=100)
        doors = _check_doors(door_ids)
        valid_from = v.aware_datetime(valid_from, "valid_from")
        valid_until = v.aware_datetime(valid_until, "valid_until")
        v.period(valid_from, valid_until, "pass validity")
        if valid_until - valid_from > MAX_PASS_VALIDITY:
            raise InvalidInputError(f"a visitor pass may be valid for at most {MAX_PASS_VALIDITY.days} days")
        max_uses = v.positive_int(max_uses, "max_uses", maximum=MAX_PASS_USES)
        now = self._clock()
        if valid_until <= now:
            raise InvalidInputError("valid_until is in the past")
        pass_id = new_id("pass")
        # Tokens carry whole seconds; store the same so the record and the token agree.
        valid_from = valid_from.replace(microsecond=0)
        valid_until = valid_until.replace(microsecond=0)
        with transaction(self._conn) as conn:
            issuer = self._require_resident(conn, issued_by)
            if issuer["status"] != ResidentStatus.ACTIVE.value:
                raise InvalidInputError(f"resident {issued_by!r} is suspended and cannot issue passes")
            unknown = _unknown_doors(conn, doors)
            if unknown:
                raise InvalidInputError(f"unknown doors: {sorted(unknown)}")
            conn.execute(
                "INSERT INTO visitor_passes (pass_id, issued_by, visitor_name, valid_from, valid_until, max_uses,"
                " created_at) VALUES (?,?,?,?,?,?,?)",
                (pass_id, issued_by, visitor, v.to_db(valid_from), v.to_db(valid_until), max_uses, v.to_db(now)),
            )
            conn.executemany(
                "INSERT INTO pass_doors (pass_id, door_id) VALUES (?, ?)", [(pass_id, d) for d in sorted(doors)]
            )
            record = pass_from_row(
                conn, conn.execute("SELECT * FROM visitor_passes WHERE pass_id = ?", (pass_id,)).fetchone()
            )
        token = sign_token(self._keys.visitor_pass, pass_id, valid_from, valid_until)
        self._audit(
            actor,
            "pass.issue",
            now,
            {"pass_id": pass_id, "issued_by": issued_by, "doors": sorted(doors), "max_uses": max_uses},
        )
        return IssuedPass(record, token, render_qr_png(token))

    def revoke_pass(self, actor: str, pass_id: str) -> VisitorPass:
        """Revoke a pass; later presentations are denied as revoked."""
        actor = v.actor(actor)
        pass_id = v.identifier(pass_id, "pass_id")
        now = self._clock()
        with transaction(self._conn) as conn:
            current = load_pass(conn, pass_id)
            if current is None:
                raise NotFoundError(f"no visitor pass {pass_id!r}")
            if current.revoked_at is not None:
                raise InvalidInputError(f"visitor pass {pass_id!r} is already revoked")
            conn.execute("UPDATE visitor_passes SET revoked_at = ? WHERE pass_id = ?", (v.to_db(now), pass_id))
            updated = load_pass(conn, pass_id)
        assert updated is not None
        self._audit(actor, "pass.revoke", now, {"pass_id": pass_id, "issued_by": updated.issued_by})
        return updated

    def purge_expired_passes(self, actor: str, before: datetime) -> int:
        """Retention hook: delete passes whose validity ended before ``before``; returns how many went."""
        actor = v.actor(actor)
        before = v.aware_datetime(before, "before")
        now = self._clock()
        with transaction(self._conn) as conn:
            count = conn.execute("DELETE FROM visitor_passes WHERE valid_until < ?", (v.to_db(before),)).rowcount
        self._audit(actor, "pass.purge_expired", now, {"before": before.isoformat(), "passes": count})
        return count

    def get_pass(self, pass_id: str) -> VisitorPass:
        """The pass with this id; NotFoundError if there is none."""
        found = load_pass(self._conn, pass_id)
        if found is None:
            raise NotFoundError(f"no visitor pass {pass_id!r}")
        return found

    def pass_qr_png(self, pass_id: str) -> bytes:
        """The QR code of an existing pass again (same token: signatures are deterministic)."""
        found = self.get_pass(pass_id)
        return render_qr_png(sign_token(self._keys.visitor_pass, pass_id, found.valid_from, found.valid_until))

    def pass_card_png(self, pass_id: str, *, community: str, door_names: dict[str, str], tz: tzinfo) -> bytes:
        """The pass as a card image (PNG): the QR code, the visitor's name, the window, the gates (by
        ``door_names``, else their ids) and the community."""
        found = self.get_pass(pass_id)
        token = sign_token(self._keys.visitor_pass, pass_id, found.valid_from, found.valid_until)
        gates = [door_names.get(d, d) for d in sorted(found.door_ids)]
        return render_pass_card_png(token, visitor_name=found.visitor_name, valid_from=found.valid_from,
                                    valid_until=found.valid_until, gates=gates, community=community, tz=tz)

    def pass_link(self, pass_id: str) -> str:
        """The token of the pass's link (see :func:`hub.residents.pass_token.sign_link`); NotFoundError if there
        is no such pass, InvalidInputError once it can no longer be used (nothing to send)."""
        found = self.get_pass(pass_id)
        if not self.usable(found, self._clock()):
            raise InvalidInputError(f"visitor pass {pass_id!r} can no longer be used: there is nothing to send")
        return sign_link(self._keys.visitor_pass, pass_id)

    def pass_for_link(self, link: str) -> tuple[VisitorPass | None, bool]:
        """What a link shows: ``(pass, True)`` while the pass can still be used (also before it starts),
        ``(None, True)`` for a pass that has expired, been revoked or used up, ``(None, False)`` for a link that
        is not one of this hub's (or whose pass is gone). Never raises for a bad link."""
        pass_id = verify_link(self._keys.visitor_pass, link)
        if pass_id is None:
            return None, False
        found = load_pass(self._conn, pass_id)
        if found is None:
            return None, False
        return (found if self.usable(found, self._clock()) else None), True

    @staticmethod
    def usable(visitor_pass: VisitorPass, now: datetime) -> bool:
        """Whether a pass can still be used, now or once it starts: not revoked, not used up, not expired."""
        return (visitor_pass.revoked_at is None and visitor_pass.uses < visitor_pass.max_uses
                and visitor_pass.valid_until > now)

    def list_passes(self, issued_by: str | None = None) -> list[VisitorPass]:
        """Passes, newest first; all of them or those one resident issued."""
        if issued_by is None:
            rows = self._conn.execute("SELECT * FROM visitor_passes ORDER BY created_at DESC").fetchall()
        else:
            rows = self._conn.execute(
                "SELECT * FROM visitor_passes WHERE issued_by = ? ORDER BY created_at DESC", (issued_by,)
            ).fetchall()
        return [pass_from_row(self._conn, r) for r in rows]
