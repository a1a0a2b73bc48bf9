"""Bulk import of residents from another system's CSV export and a folder of checked photos, all or nothing.

The Home Assistant layer receives the photos first, runs the face quality check on each and hands over, keyed by
file name, each photo's verdict (:class:`PhotoCheck`). :func:`import_residents` then reads the CSV, checks every
row completely (every problem of every row, in words a property manager understands) and:

* when any row has a problem, writes nothing and reports every row;
* when every row is fine, writes all of them (resident, consent, card, face templates) through the ordinary
  single-record store methods, :data:`IMPORT_CHUNK` residents per transaction (one job on the community's
  writer each, so the gates keep deciding in between), each chunk recording which residents it wrote under
  the import's id. If a chunk fails, the chunks already written are taken out again and the failure is
  reported; an import cut off by a restart is taken out when the community opens. A file is imported whole or
  not at all. Each chunk's audit calls are passed to the audit listeners after its COMMIT, and one
  ``resident.import`` summary entry follows the last.

CSV format: UTF-8 (a leading byte-order mark is ignored), ``,`` or ``;`` (or tab) as delimiter, the first line a
header naming the columns (any case, surrounding spaces ignored):

==================  =========  ==============================================================================
column              required   value
==================  =========  ==============================================================================
``resident_id``     yes        1-64 letters, digits or ``._:@-``, unique in the file and new to the hub
``full_name``       yes        at most 100 characters
``household``       no         at most 100 characters
``building``        no         at most 50 characters
``unit``            no         at most 50 characters
``valid_from``      no         ISO date (``2026-01-31`` = the start of that day) or ISO datetime; without a
                               UTC offset it is the community's local time
``valid_until``     no         as ``valid_from``; must be after it
``is_minor``        no         yes/no, true/false, 1/0 or empty (= no); a minor must have a ``guardian``
``guardian``        no         at most 100 characters; a minor's consent is given by this guardian
``consent_scope``   no         when not empty, face-verification consent is recorded with this text, at import
``card_number``     no         4-32 digits or hex characters (spaces and dashes ignored), not already in use
``photos``          no         file names separated by ``;`` or ``|``, matched by base name (case-sensitive)
                               against the uploaded photos; needs ``consent_scope``; at most 20
==================  =========  ==============================================================================

Empty lines are skipped; a file may hold at most :data:`MAX_ROWS` residents.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import ParamSpec, Protocol, TypeVar

from hub.exceptions import HubError, InvalidInputError
from hub.faces.models import FloatArray
from hub.privacy.tombstone import tombstone_ref
from hub.residents import secrets
from hub.residents import validation as v
from hub.residents.registry_hub import ResidentRegistry
from hub.residents.store import new_id, transaction
from hub.residents.templates import MAX_TEMPLATES_PER_RESIDENT, check_template

MAX_ROWS = 10_000
"""The most residents one file may hold."""

IMPORT_ACTION = "resident.import"
IMPORT_CHUNK = 100
"""Rows per writer job while checking and writing: a gate's decision waits for at most one such job."""

P = ParamSpec("P")
_T = TypeVar("_T")
"""The summary audit entry written after an import committed (counts only)."""

REQUIRED_COLUMNS = ("resident_id", "full_name")
OPTIONAL_COLUMNS = (
    "household",
    "building",
    "unit",
    "valid_from",
    "valid_until",
    "is_minor",
    "guardian",
    "consent_scope",
    "card_number",
    "photos",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

_DELIMITERS = (",", ";", "\t")
_PHOTO_SEPARATORS = (";", "|")
_YES = frozenset({"yes", "true", "1"})
_NO = frozenset({"no", "false", "0", ""})
_SHOWN = 40  # characters of a cell quoted back in a message


@dataclass(frozen=True)
class PhotoCheck:
    """One uploaded photo's quality verdict, made by the Home Assistant layer before the import."""

    filename: str
    accepted: bool
    reason: str | None
    """The quality check's reason when the photo was refused, in words for a manager."""
    template: FloatArray | None
    """The 128-d float32 unit vector when the photo was accepted."""
    probe: FloatArray | None = None
    """The same face encoded as a gate camera's frame is (no jitter): what the enrolment review compares with
    the enrolled templates, as the gates do (``None``: the review uses ``template``)."""


@dataclass(frozen=True)
class RowResult:
    """The outcome of one line of the file (``row`` is its line number; the header is line 1)."""

    row: int
    resident_id: str | None
    ok: bool
    errors: list[str] = field(default_factory=list)
    photos: int = 0
    """Face templates that will be (dry run) or were enrolled for this resident."""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "row": self.row,
            "resident_id": self.resident_id,
            "ok": self.ok,
            "errors": list(self.errors),
            "photos": self.photos,
        }


@dataclass(frozen=True)
class ImportReport:
    """What an import did: ``imported`` only when every row was fine and the write committed (never a dry run).

    ``errors`` holds problems of the file as a whole (empty file, too many rows, a failed write) and a one-line
    summary when rows have problems; each row's own problems are in its :class:`RowResult`.
    """

    imported: bool
    rows: list[RowResult]
    errors: list[str]
    dry_run: bool = False

    @property
    def valid(self) -> bool:
        """Whether the file had no problem at all (what a dry run is asked to find out)."""
        return not self.errors and bool(self.rows) and all(r.ok for r in self.rows)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "imported": self.imported,
            "dry_run": self.dry_run,
            "valid": self.valid,
            "rows": [r.to_dict() for r in self.rows],
            "errors": list(self.errors),
        }


class AuditBatch(Protocol):
    """Audit calls held back until the import's transaction commits (:class:`hub.community.PendingAudit`)."""

    def add(self, actor: str, action: str, details: Mapping[str, object]) -> None: ...

    def emit(self) -> int: ...

    def take(self) -> list[tuple[str, str, dict[str, object]]]: ...


class ImportTarget(Protocol):
    """What the import needs of a community (:class:`hub.community.Community` is one)."""

    @property
    def registry(self) -> ResidentRegistry: ...

    @property
    def timezone(self) -> tzinfo: ...

    def deferred_audit(self) -> AbstractContextManager[AuditBatch]: ...

    def call(self, func: Callable[P, _T], *args: P.args, **kwargs: P.kwargs) -> _T: ...

    def pass_on_audit(self, actor: str, action: str, details: Mapping[str, object]) -> None: ...


@dataclass
class _Plan:
    """A checked row, ready to be written."""

    row: int
    resident_id: str
    full_name: str
    household: str | None = None
    building: str | None = None
    unit: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    is_minor: bool = False
    guardian: str | None = None
    consent_scope: str | None = None
    card_number: str | None = None
    templates: list[FloatArray] = field(default_factory=list)


@dataclass(frozen=True)
class _Line:
    row: int
    cells: dict[str, str]
    stray: list[int]  # positions of non-empty cells under no (or an unnamed) header column


class _FileError(Exception):
    """The file as a whole cannot be read; ``row`` is 1 for header problems, else None."""

    def __init__(self, messages: list[str], *, row: int | None = None) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.row = row


def import_residents(
    community: ImportTarget,
    actor: str,
    csv_text: str,
    photos: Mapping[str, PhotoCheck],
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    chunk: int = IMPORT_CHUNK,
) -> ImportReport:
    """Check the CSV and photos; unless ``dry_run``, import every resident if all are fine, all or nothing.

    Call it off the community's writer (from an executor thread): the file is read here, and the checks and the
    writes run ``chunk`` rows per writer job, so a gate's decision queued meanwhile waits for one small job, not
    the whole file. Called inside a writer job instead, every step runs inline (one long job). ``now`` is when
    the consents in the file are recorded as given (default: the current time).

    The writes go through the single-record store paths, one transaction per chunk, each chunk recording which
    residents it wrote under the import's id. If a chunk fails, the chunks before it are taken out again (and an
    import cut off by a restart is taken out when the community opens: :func:`remove_unfinished_imports`), so a
    file is imported whole or not at all. While it runs, the residents already written are in force. Each
    chunk's audit calls are passed on after its COMMIT, one writer job each; a ``resident.import`` summary
    entry follows the last.
    """
    actor = v.actor(actor)
    if not isinstance(csv_text, str):
        raise InvalidInputError(f"csv_text must be text, got {type(csv_text).__name__}")
    now = datetime.now(UTC) if now is None else v.aware_datetime(now, "now")
    if chunk < 1:
        raise InvalidInputError("chunk must be at least 1")

    try:
        lines = _read(csv_text)
    except _FileError as err:
        if err.row is None:
            return ImportReport(False, [], err.messages, dry_run)
        summary = "the header (row 1) has problems, so nothing was imported: correct it and try again"
        return ImportReport(False, [RowResult(err.row, None, False, err.messages)], [summary], dry_run)
    if not lines:
        return ImportReport(False, [], ["the file has a header but no residents"], dry_run)

    checker = _Checker(photos, community.timezone)
    for part in _chunks(lines, chunk):
        community.call(checker.check, community.registry, part)
    results, plans = checker.finish()
    bad = [r for r in results if not r.ok]
    if bad:
        return ImportReport(
            False,
            results,
            [f"{len(bad)} of {len(results)} rows have problems, so nothing was imported: correct them and try again"],
            dry_run,
        )
    if dry_run:
        return ImportReport(False, results, [], True)

    import_id = new_id("import")
    try:
        for index, planned in enumerate(_chunks(plans, chunk)):
            held = community.call(_write_chunk, community, import_id, actor, planned, now, index == 0)
            for call in held:  # one writer job each: a decision queued meanwhile waits for one call, not all
                community.call(community.pass_on_audit, *call)
    except (_RowWriteError, HubError, sqlite3.Error) as err:
        remove_unfinished_imports(community, actor, [import_id], chunk=chunk)
        row = err if isinstance(err, _RowWriteError) else None
        where = f"row {row.row} (resident {row.resident_id})" if row is not None else "the import"
        message = f"saving {where} failed: {row.error if row is not None else err}"
        results = [
            replace(r, ok=False, errors=[*r.errors, message]) if row is not None and r.row == row.row else r
            for r in results
        ]
        summary = f"{message}; nothing was imported and the hub is unchanged"
        return ImportReport(False, results, [summary], dry_run)

    community.call(_finish, community, import_id)
    community.call(
        community.pass_on_audit,
        actor,
        IMPORT_ACTION,
        {
            "residents": len(plans),
            "consents": sum(1 for p in plans if p.consent_scope is not None),
            "cards": sum(1 for p in plans if p.card_number is not None),
            "templates": sum(len(p.templates) for p in plans),
            "at": now.isoformat(),
        },
    )
    return ImportReport(True, results, [])


def remove_unfinished_imports(
    community: ImportTarget, actor: str, import_ids: Sequence[str] | None = None, *, chunk: int = IMPORT_CHUNK
) -> int:
    """Take out what unfinished imports wrote (all of them when ``import_ids`` is None), ``chunk`` residents
    per writer job; returns how many residents were taken out."""
    registry = community.registry
    ids = list(import_ids) if import_ids is not None else community.call(registry.unfinished_imports)
    removed = 0
    for import_id in ids:
        while taken := community.call(registry.remove_unfinished_import, actor, import_id, limit=chunk):
            removed += taken
    return removed


class _RowWriteError(Exception):
    """Writing one planned row failed (the chunk's transaction rolled back)."""

    def __init__(self, row: int, resident_id: str, error: Exception) -> None:
        super().__init__(f"row {row}: {error}")
        self.row = row
        self.resident_id = resident_id
        self.error = error


def _chunks[T](items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _write_chunk(
    community: ImportTarget, import_id: str, actor: str, plans: Sequence[_Plan], now: datetime, first: bool
) -> list[tuple[str, str, dict[str, object]]]:
    """One writer job: one transaction writing ``plans`` and recording them under ``import_id``; returns the
    audit calls it held back (to be passed on after the COMMIT). On failure nothing of the chunk stays and the
    held calls are dropped."""
    registry = community.registry
    with community.deferred_audit() as batch:
        with transaction(registry.conn) as conn:
            if first:
                conn.execute("INSERT INTO resident_imports (import_id, actor, started_at) VALUES (?, ?, ?)",
                             (import_id, actor, v.to_db(now)))
            for plan in plans:
                try:
                    _write(registry, actor, plan, now)
                except (HubError, sqlite3.Error) as err:
                    raise _RowWriteError(plan.row, plan.resident_id, err) from err
            conn.executemany("INSERT INTO resident_import_members (import_id, resident_id) VALUES (?, ?)",
                             [(import_id, p.resident_id) for p in plans])
        return batch.take()


def _finish(community: ImportTarget, import_id: str) -> None:
    """The import is whole: forget which residents it wrote (one small transaction)."""
    with transaction(community.registry.conn) as conn:
        conn.execute("DELETE FROM resident_imports WHERE import_id = ?", (import_id,))


def _write(registry: ResidentRegistry, actor: str, plan: _Plan, now: datetime) -> None:
    """One resident through the single-record paths, so every rule they enforce is enforced again here."""
    registry.residents.add_resident(
        actor,
        plan.resident_id,
        plan.full_name,
        household=plan.household,
        building=plan.building,
        unit=plan.unit,
        valid_from=plan.valid_from,
        valid_until=plan.valid_until,
        is_minor=plan.is_minor,
        guardian=plan.guardian,
    )
    if plan.consent_scope is not None:
        registry.consents.record_consent(
            actor,
            plan.resident_id,
            scope=plan.consent_scope,
            given_at=now,
            guardian=plan.guardian if plan.is_minor else None,
        )
    if plan.card_number is not None:
        registry.credentials.add_card(actor, plan.resident_id, plan.card_number)
    if plan.templates:
        registry.faces.enrol_templates(actor, plan.resident_id, plan.templates)


# -- reading the file ----------------------------------------------------------------------------------------------


def _read(csv_text: str) -> list[_Line]:
    """The data lines of the file, each as {column: stripped cell}; raises _FileError for the file as a whole."""
    text = csv_text.removeprefix("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise _FileError(["the file is empty"])
    delimiter = _delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        names = _header(reader)
        lines: list[_Line] = []
        previous = reader.line_num
        for cells in reader:
            row, previous = previous + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(lines) == MAX_ROWS:
                raise _FileError([f"the file has more than {MAX_ROWS:,} residents: split it into smaller files"])
            values: dict[str, str] = {}
            stray: list[int] = []
            for position, cell in enumerate(cells):
                name = names[position] if position < len(names) else ""
                if name:
                    values[name] = cell.strip()
                elif cell.strip():
                    stray.append(position + 1)
            lines.append(_Line(row, values, stray))
    except csv.Error as err:
        raise _FileError([f"the file could not be read as CSV near line {reader.line_num}: {err}"]) from err
    return lines


def _delimiter(header_line: str) -> str:
    """The delimiter under which the header names the most known columns (``,`` when none does better)."""

    def known(delimiter: str) -> int:
        return sum(1 for name in header_line.split(delimiter) if name.strip().strip('"').strip().lower() in COLUMNS)

    return max(_DELIMITERS, key=known)  # max keeps the first of equal scores: ","


def _header(reader: Iterator[list[str]]) -> list[str]:
    """The header's column names (lower case; "" for an unnamed column); problems are reported as row 1."""
    for cells in reader:
        if any(cell.strip() for cell in cells):
            break
    else:
        raise _FileError(["the file is empty"])
    names = [cell.strip().lower() for cell in cells]
    problems: list[str] = []
    seen: set[str] = set()
    for name in names:
        if not name:
            continue
        if name in seen:
            problems.append(f"column {name} appears more than once in the header")
        elif name not in COLUMNS:
            problems.append(f"unknown column {_shown(name)}: the columns are {', '.join(COLUMNS)}")
        seen.add(name)
    problems += [f"required column {name} is missing from the header" for name in REQUIRED_COLUMNS if name not in seen]
    if problems:
        raise _FileError(problems, row=1)
    return names


# -- checking the rows ---------------------------------------------------------------------------------------------


class _Checker:
    """Every problem of every row, fed in chunks (one writer job each): a row is checked against the hub and
    against the rows before it in the file. The plans are complete only when no row has a problem."""

    def __init__(self, photos: Mapping[str, PhotoCheck], zone: tzinfo) -> None:
        self._photo_index = _PhotoIndex(photos)
        self._zone = zone
        self._first_row_of_id: dict[str, int] = {}
        self._first_row_of_card: dict[str, int] = {}
        self._first_row_of_photo: dict[str, int] = {}
        self._repeats: dict[int, list[str]] = {}  # later duplicates, told to the row that came first
        self._results: list[RowResult] = []
        self._plans: list[_Plan] = []

    def check(self, registry: ResidentRegistry, lines: Sequence[_Line]) -> None:
        """Check the next lines of the file."""
        repeats = self._repeats
        for line in lines:
            errors: list[str] = []
            plan = _check_row(registry, line, self._photo_index, self._zone, errors)
            if plan.resident_id:
                first = self._first_row_of_id.setdefault(plan.resident_id, line.row)
                if first != line.row:
                    errors.append(f"resident_id {plan.resident_id} already appears on row {first}")
                    repeats.setdefault(first, []).append(
                        f"resident_id {plan.resident_id} appears again on row {line.row}")
            if plan.card_number is not None:
                first = self._first_row_of_card.setdefault(plan.card_number, line.row)
                if first != line.row:
                    hint = plan.card_number[-4:]
                    errors.append(f"card ending {hint} is also on row {first}")
                    repeats.setdefault(first, []).append(f"card ending {hint} is also on row {line.row}")
            for name in _photo_names(line.cells.get("photos", "")):
                first = self._first_row_of_photo.setdefault(name, line.row)
                if first != line.row:
                    errors.append(f"photo {name} is also listed on row {first}")
                    repeats.setdefault(first, []).append(f"photo {name} is also listed on row {line.row}")
            shown_id = line.cells.get("resident_id") or None
            self._results.append(RowResult(line.row, shown_id, not errors, errors, len(plan.templates)))
            self._plans.append(plan)

    def finish(self) -> tuple[list[RowResult], list[_Plan]]:
        """The results of every row (with the repeats told to the rows that came first) and the plans."""
        results = [
            replace(r, ok=False, errors=[*r.errors, *self._repeats[r.row]]) if r.row in self._repeats else r
            for r in self._results
        ]
        return results, self._plans


def _check_row(
    registry: ResidentRegistry, line: _Line, photo_index: _PhotoIndex, zone: tzinfo, errors: list[str]
) -> _Plan:
    cells = line.cells
    if line.stray:
        columns = ", ".join(str(p) for p in line.stray)
        errors.append(f"values in column {columns}, which has no name in the header")

    resident_id = cells.get("resident_id", "")
    if not resident_id:
        errors.append("resident_id is empty")
    elif not _is_identifier(resident_id):
        errors.append(
            f"resident_id {_shown(resident_id)} is not valid: use 1-64 letters, digits or . _ : @ -,"
            " starting with a letter or digit"
        )
        resident_id = ""
    else:
        conn = registry.conn
        if conn.execute("SELECT 1 FROM residents WHERE resident_id = ?", (resident_id,)).fetchone():
            errors.append(f"resident {resident_id} already exists")
        elif conn.execute(
            "SELECT 1 FROM resident_tombstones WHERE subject_ref = ?",
            (tombstone_ref(registry.keys.tombstone, resident_id),),
        ).fetchone():
            errors.append(f"resident_id {resident_id} belonged to a resident who was erased: use a new id")
    plan = _Plan(line.row, resident_id, "")

    full_name = cells.get("full_name", "")
    if not full_name:
        errors.append("full_name is empty")
    else:
        plan.full_name = _text(full_name, "full_name", 100, errors) or ""
    plan.household = _text(cells.get("household", ""), "household", 100, errors)
    plan.building = _text(cells.get("building", ""), "building", 50, errors)
    plan.unit = _text(cells.get("unit", ""), "unit", 50, errors)
    plan.guardian = _text(cells.get("guardian", ""), "guardian", 100, errors)

    plan.valid_from = _when(cells.get("valid_from", ""), "valid_from", zone, errors)
    plan.valid_until = _when(cells.get("valid_until", ""), "valid_until", zone, errors)
    if plan.valid_from is not None and plan.valid_until is not None and plan.valid_until <= plan.valid_from:
        errors.append("valid_until must be after valid_from")

    is_minor = cells.get("is_minor", "").lower()
    if is_minor in _YES:
        plan.is_minor = True
    elif is_minor not in _NO:
        errors.append(f"is_minor must be yes or no, not {_shown(cells['is_minor'])}")
    no_guardian = plan.is_minor and not cells.get("guardian")
    if no_guardian:
        errors.append("is_minor is yes but guardian is empty: a minor must have a guardian")

    consent_scope = cells.get("consent_scope", "")
    if consent_scope:
        plan.consent_scope = _text(consent_scope, "consent_scope", 2000, errors)
        if no_guardian:
            errors.append("a minor's face consent needs a guardian")

    card_number = cells.get("card_number", "")
    if card_number:
        try:
            plan.card_number = secrets.check_card_number(card_number)
        except InvalidInputError:
            errors.append(
                f"card_number {_shown(card_number)} is invalid: use 4-32 digits or letters A-F"
                " (spaces and dashes are ignored)"
            )
        else:
            index = secrets.keyed_index(registry.keys.card_index, plan.card_number)
            if registry.conn.execute(
                "SELECT 1 FROM cards WHERE number_index = ? AND revoked_at IS NULL", (index,)
            ).fetchone():
                errors.append(f"card ending {plan.card_number[-4:]} already belongs to someone on the hub")

    names = _photo_names(cells.get("photos", ""))
    if names and not consent_scope:
        errors.append("photos listed but no consent_scope: face verification needs consent")
    if len(names) > MAX_TEMPLATES_PER_RESIDENT:
        errors.append(f"{len(names)} photos listed: at most {MAX_TEMPLATES_PER_RESIDENT} per resident")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            errors.append(f"photo {name} is listed twice")
            continue
        seen.add(name)
        template = photo_index.template(name, errors)
        if template is not None:
            plan.templates.append(template)
    return plan


class _PhotoIndex:
    """The uploaded photos by base name (case-sensitive), as a row's ``photos`` cell names them."""

    def __init__(self, photos: Mapping[str, PhotoCheck]) -> None:
        self._by_base: dict[str, list[PhotoCheck]] = {}
        for key, check in photos.items():
            self._by_base.setdefault(_basename(key), []).append(check)

    def template(self, name: str, errors: list[str]) -> FloatArray | None:
        """The accepted photo's template, or None with the reason appended to ``errors``."""
        found = self._by_base.get(name, [])
        if not found:
            errors.append(f"photo {name} was not uploaded")
            return None
        if len(found) > 1:
            errors.append(f"photo {name} matches {len(found)} uploaded files: give the photos distinct names")
            return None
        check = found[0]
        if not check.accepted:
            errors.append(f"photo {name} refused: {check.reason or 'no usable face'}")
            return None
        try:
            return check_template(check.template)
        except InvalidInputError:
            errors.append(f"photo {name} has no usable face template: check the photo again")
            return None


def _photo_names(cell: str) -> list[str]:
    """The base names a ``photos`` cell lists (``;`` or ``|`` between them), in order, blanks dropped."""
    for separator in _PHOTO_SEPARATORS[1:]:
        cell = cell.replace(separator, _PHOTO_SEPARATORS[0])
    return [_basename(name.strip()) for name in cell.split(_PHOTO_SEPARATORS[0]) if name.strip()]


def _basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _text(value: str, column: str, max_length: int, errors: list[str]) -> str | None:
    """An optional text cell (empty = None), checked by the same rule as the single-record path."""
    if not value:
        return None
    try:
        return v.text(value, column, max_length=max_length, optional=True)
    except InvalidInputError as err:
        errors.append(str(err))
        return None


def _when(value: str, column: str, zone: tzinfo, errors: list[str]) -> datetime | None:
    """An ISO date (the start of that day) or datetime; without an offset it is in the community's zone."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        errors.append(f"{column} {_shown(value)} is not a date: use 2026-01-31 or 2026-01-31T08:00")
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def _is_identifier(value: str) -> bool:
    """The single-record rule for ids (:func:`hub.residents.validation.identifier`)."""
    try:
        v.identifier(value, "resident_id")
    except InvalidInputError:
        return False
    return True


def _shown(value: str) -> str:
    """A cell quoted back in a message, shortened."""
    return repr(value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…")
