"""The hub's durable event journal, its transactional outbox, the hash-chained audit log, retention purge and the
managers' access-log query.

Everything here is blocking SQLite work: call it from an executor (Home Assistant: ``async_add_executor_job``),
never from the event loop.
"""

from .audit import AuditEntry, AuditHead, AuditKeys, AuditLog, AuditVerification, resident_ref
from .models import EventKind, JournalEvent, NewEvent
from .outbox import Outbox, PendingEvent
from .query import AccessLogFilter, AccessLogPage, AccessLogRow
from .retention import PurgeResult, RetentionPolicy, purge_expired, purge_periodically
from .schema import COMPONENT
from .store import MAX_PLACE_NAME, PLACE_NAME_FIELD, Journal, check_place_names, open_journal_database

__all__ = [
    "COMPONENT",
    "MAX_PLACE_NAME",
    "PLACE_NAME_FIELD",
    "AccessLogFilter",
    "AccessLogPage",
    "AccessLogRow",
    "AuditEntry",
    "AuditHead",
    "AuditKeys",
    "AuditLog",
    "AuditVerification",
    "EventKind",
    "Journal",
    "JournalEvent",
    "NewEvent",
    "Outbox",
    "PendingEvent",
    "PurgeResult",
    "RetentionPolicy",
    "check_place_names",
    "open_journal_database",
    "purge_expired",
    "purge_periodically",
    "resident_ref",
]
