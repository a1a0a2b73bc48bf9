"""Push URLs carry their lane's secret (``/anpr/<format>/<secret>``): log lines that print request paths must not
show it. :class:`PushSecretFilter` rewrites the secret path segment to ``***`` in a record's message, its arguments
and its extra fields (aiohttp's access logger passes the request line as ``first_request_line``, for example).
:func:`install_push_secret_filter` puts it on the loggers of the HTTP servers that serve push URLs: aiohttp's
access log (``aiohttp.access``, INFO) and Home Assistant's view logger (``homeassistant.helpers.http``, DEBUG).
"""

from __future__ import annotations

import logging
import re
from typing import Any

__all__ = ["PushSecretFilter", "install_push_secret_filter", "redact_push_paths"]

REDACTED = "***"
# ``/anpr/<format>/<secret>`` anywhere in a text (Home Assistant's ``/api/smart_community/anpr/...`` included);
# the secret is the whole next path segment, up to a slash, a query, a quote or white space.
_PUSH_PATH = re.compile(r"(/anpr/[A-Za-z][A-Za-z0-9_-]{0,30}/)([^/?#\s\"']+)")
# The loggers that print request paths of the servers push URLs are served on.
PATH_LOGGERS = ("aiohttp.access", "homeassistant.helpers.http", "aiohttp.server", "aiohttp.web")
_STANDARD = frozenset(vars(logging.makeLogRecord({})))


def redact_push_paths(text: str) -> str:
    """``text`` with every push URL's secret replaced by ``***``."""
    return _PUSH_PATH.sub(lambda m: m.group(1) + REDACTED, text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact_push_paths(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if value is None or isinstance(value, (int, float, bool)):
        return value
    # A path may come as an object (a yarl URL, a request): its text, only if that shows a secret.
    text = str(value)
    cleaned = redact_push_paths(text)
    return cleaned if cleaned != text else value


class PushSecretFilter(logging.Filter):
    """Redacts push URL secrets in every record it sees; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_push_paths(record.msg)
        if isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_clean(arg) for arg in record.args)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and key not in ("message", "asctime"):
                setattr(record, key, _clean(value))
        return True


_FILTER = PushSecretFilter()


def install_push_secret_filter(names: tuple[str, ...] = PATH_LOGGERS) -> None:
    """Put the filter on those loggers (once each; safe to call again)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, PushSecretFilter) for f in logger.filters):
            logger.addFilter(_FILTER)
