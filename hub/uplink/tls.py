"""TLS settings for https receivers: verify certificates always, against the system store or a given CA file."""

from __future__ import annotations

import ssl
from pathlib import Path

from hub.exceptions import InvalidInputError


def client_ssl_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """A verifying client context; with ``ca_file`` only that CA (for a county's private PKI) is trusted."""
    if ca_file is not None and not Path(ca_file).is_file():
        raise InvalidInputError(f"CA file {ca_file} does not exist")
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context
