"""The hub's secret key file and the purpose-specific keys derived from it.

The key lives outside the database on purpose: a copied database file (a backup, a support bundle) then holds
only ciphertext and keyed indexes. One 32-byte master key is created on first use with 0600 permissions; each use
(template encryption, card index, visitor-pass signatures, tombstones, the audit log's resident
pseudonyms and its keyed hash chain) gets its own HKDF-derived key so that no key serves two purposes.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.exceptions import InvalidInputError
from hub.journal.audit import AuditKeys
from hub.privacy.errors import KeyFileError

MASTER_KEY_BYTES = 32
_PURPOSES = ("templates", "card-index", "visitor-pass", "tombstone", "audit-ref", "audit-chain")


def _derive(master: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"smart-community-hub/v1", info=purpose.encode()).derive(
        master
    )


@dataclass(frozen=True)
class KeyRing:
    """Keys derived from one master key; ``key_id`` names the master key without revealing it."""

    key_id: str
    templates: bytes = field(repr=False)
    card_index: bytes = field(repr=False)
    visitor_pass: bytes = field(repr=False)
    tombstone: bytes = field(repr=False)
    audit_ref: bytes = field(repr=False)
    audit_chain: bytes = field(repr=False)

    @property
    def audit(self) -> AuditKeys:
        """The audit log's keys: the resident pseudonyms and the keyed hash chain."""
        return AuditKeys(ref=self.audit_ref, chain=self.audit_chain)

    @classmethod
    def from_master_key(cls, master: bytes) -> KeyRing:
        """Derive every purpose key from ``master`` (exactly 32 bytes)."""
        if len(master) != MASTER_KEY_BYTES:
            raise KeyFileError(f"master key must be {MASTER_KEY_BYTES} bytes, got {len(master)}")
        keys = {purpose: _derive(master, purpose) for purpose in _PURPOSES}
        # The id is a hash of a derived key, never of the master itself, so it can sit in the database.
        key_id = hashlib.sha256(_derive(master, "key-id")).hexdigest()[:16]
        return cls(
            key_id=key_id,
            templates=keys["templates"],
            card_index=keys["card-index"],
            visitor_pass=keys["visitor-pass"],
            tombstone=keys["tombstone"],
            audit_ref=keys["audit-ref"],
            audit_chain=keys["audit-chain"],
        )

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str]) -> KeyRing:
        """Read the key file at ``path``, creating it (0600, random) if it does not exist yet.

        There is deliberately no default path: the caller (Home Assistant's storage folder, the demo) decides
        where the key lives, and it must not be next to the database in a backup.
        """
        if not isinstance(path, (str, os.PathLike)) or not str(path):
            raise InvalidInputError("key file path must be a non-empty path")
        key_path = Path(path)
        if not key_path.parent.is_dir():
            raise KeyFileError(f"key file folder {key_path.parent} does not exist")
        try:
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls.from_master_key(_read_key_file(key_path))
        try:
            os.write(fd, os.urandom(MASTER_KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        return cls.from_master_key(_read_key_file(key_path))


def _read_key_file(path: Path) -> bytes:
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        raise KeyFileError(f"key file {path} is not a regular file")
    if mode & 0o077:
        raise KeyFileError(
            f"key file {path} is accessible to group or others (mode {stat.S_IMODE(mode):o}); chmod 600 it"
        )
    data = path.read_bytes()
    if len(data) != MASTER_KEY_BYTES:
        raise KeyFileError(f"key file {path} holds {len(data)} bytes, expected {MASTER_KEY_BYTES}")
    return data
