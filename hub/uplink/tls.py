"""TLS settings for https receivers: verify certificates always, against the system store or a given CA file."""

from __future__ import annotations

import ssl
from pathlib import Path

from hub.exceptions import InvalidInputError

# A CA bundle is a few certificates (the whole system store is about 200 KB): a larger file is a mistake, and is
# refused before OpenSSL reads it.
MAX_CA_FILE_BYTES = 1024 * 1024


def client_ssl_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """A verifying client context; with ``ca_file`` only that CA (for a county's private PKI) is trusted."""
    if ca_file is not None:
        path = Path(ca_file)
        if not path.is_file():
            raise InvalidInputError(f"CA file {ca_file} does not exist")
        if path.stat().st_size > MAX_CA_FILE_BYTES:
            raise InvalidInputError(f"CA file {ca_file} is larger than {MAX_CA_FILE_BYTES // 1024} KB")
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context
