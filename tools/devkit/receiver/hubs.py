"""Which hubs the reference receiver knows, each with its own secret, and the hubs file that lists them.

A request names its hub in ``X-Hub-Id``; the receiver checks the signature with that hub's secret only, so a hub
that knows its own secret cannot post as another. No two hubs may share a secret (that would let one post as the
other again), and there is no default secret.

The hubs file (``community-hub receiver --hubs-file FILE``) is either a JSON object::

    {"hub-7f3a": {"secret_file": "hub-7f3a.secret"}, "hub-91c2": "a-secret-of-at-least-16-bytes"}

or lines, ``#`` starting a comment::

    hub-7f3a hub-7f3a.secret          # HUB_ID SECRET_FILE (relative paths are relative to the hubs file)
    hub-91c2=a-secret-of-at-least-16-bytes

Errors name the file and line, never a secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from hub.exceptions import InvalidInputError
from hub.uplink.secret import Secret

HUB_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def check_hub_id(hub_id: str) -> str:
    """``hub_id`` when it is a usable hub id (what hubs send in ``X-Hub-Id``), else :class:`InvalidInputError`."""
    if not isinstance(hub_id, str) or not HUB_ID_RE.fullmatch(hub_id):
        raise InvalidInputError(
            f"{hub_id!r} is not a hub id: 1 to 64 letters, digits, '.', '_', ':' or '-', starting with a letter "
            "or digit")
    return hub_id


class HubSecrets(Mapping[str, Secret]):
    """Hub id -> that hub's secret. Refuses a bad id, a second secret for a hub, and a secret two hubs share."""

    def __init__(self, hubs: Mapping[str, Secret] | None = None) -> None:
        self._hubs: dict[str, Secret] = {}
        for hub_id, secret in (hubs or {}).items():
            self.add(hub_id, secret)

    def add(self, hub_id: str, secret: Secret) -> None:
        """Bind ``hub_id`` to ``secret``; binding a hub again to the same secret changes nothing."""
        check_hub_id(hub_id)
        if not isinstance(secret, Secret):
            raise InvalidInputError(f"hub {hub_id!r}: the secret must be a Secret")
        known = self._hubs.get(hub_id)
        if known is not None:
            if known == secret:
                return
            raise InvalidInputError(f"hub {hub_id!r} is listed twice, with different secrets")
        for other, other_secret in self._hubs.items():
            if other_secret == secret:
                raise InvalidInputError(f"hubs {other!r} and {hub_id!r} share a secret: each hub needs its own")
        self._hubs[hub_id] = secret

    def remove(self, hub_id: str) -> None:
        """Stop accepting ``hub_id`` (nothing happens when it is not known)."""
        self._hubs.pop(hub_id, None)

    def __getitem__(self, hub_id: str) -> Secret:
        return self._hubs[hub_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._hubs)

    def __len__(self) -> int:
        return len(self._hubs)

    def __repr__(self) -> str:
        return f"HubSecrets({len(self._hubs)} hub(s))"


def load_hubs_file(path: str | Path) -> HubSecrets:
    """Read a hubs file (JSON object or lines, see the module's doc); :class:`InvalidInputError` says what is wrong.

    An unreadable file raises :class:`OSError`.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    hubs = HubSecrets()
    if text.lstrip().startswith(("{", "[")):
        _load_json(path, text, hubs)
    else:
        _load_lines(path, text, hubs)
    if not hubs:
        raise InvalidInputError(f"{path}: lists no hub")
    return hubs


def _load_json(path: Path, text: str, hubs: HubSecrets) -> None:
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as err:  # its position only: the message must not quote the file
        raise InvalidInputError(f"{path}: not valid JSON (line {err.lineno}, column {err.colno})") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: expected a JSON object of hub id -> secret")
    for hub_id, entry in data.items():
        where = f"{path}: hub {hub_id!r}"
        if isinstance(entry, str):
            secret = _secret(where, entry)
        elif isinstance(entry, dict) and set(entry) == {"secret_file"} and isinstance(entry["secret_file"], str):
            secret = _secret_from_file(where, path.parent / entry["secret_file"])
        else:
            raise InvalidInputError(f"{where}: expected a secret string or {{\"secret_file\": \"PATH\"}}")
        _add(hubs, f"{path}", hub_id, secret)


def _load_lines(path: Path, text: str, hubs: HubSecrets) -> None:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip() if _is_inline_secret(raw) else raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path} line {number}"
        if "=" in line.split(None, 1)[0]:
            hub_id, _, value = line.partition("=")
            _add(hubs, where, hub_id.strip(), _secret(where, value.strip()))
            continue
        parts = line.split(None, 1)
        if len(parts) != 2:
            raise InvalidInputError(f"{where}: expected 'HUB_ID SECRET_FILE' or 'HUB_ID=SECRET'")
        hub_id, file = parts
        _add(hubs, where, hub_id, _secret_from_file(where, path.parent / file.strip()))


def _add(hubs: HubSecrets, where: str, hub_id: str, secret: Secret) -> None:
    try:
        hubs.add(hub_id, secret)
    except InvalidInputError as err:
        raise InvalidInputError(f"{where}: {err}") from None


def _is_inline_secret(raw: str) -> bool:
    """``HUB_ID=SECRET`` lines keep a ``#`` inside the secret (only a whole-line comment is a comment there)."""
    stripped = raw.strip()
    return bool(stripped) and not stripped.startswith("#") and "=" in stripped.split(None, 1)[0]


def _secret(where: str, value: str) -> Secret:
    try:
        return Secret(value)
    except InvalidInputError as err:
        raise InvalidInputError(f"{where}: {err}") from None


def _secret_from_file(where: str, file: Path) -> Secret:
    try:
        return Secret.from_file(file)
    # The file's name is not repeated: on a mistyped line it may be a secret written without its '='.
    except OSError as err:
        raise InvalidInputError(f"{where}: the secret file named there cannot be read ({err.strerror or 'error'}); "
                                "a secret itself is written HUB_ID=SECRET") from None
    except InvalidInputError as err:
        raise InvalidInputError(f"{where}: the secret file named there: {err}") from None
