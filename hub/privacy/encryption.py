"""AES-GCM encryption of per-resident secrets (face templates, kept enrolment photos).

The associated data names the purpose and the resident id, so a ciphertext copied onto another resident's row,
or a photo blob put where a template belongs, fails authentication instead of decrypting.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.privacy.errors import DecryptionError

_NONCE_BYTES = 12
_FORMAT = b"\x01"  # leading version byte: lets a later key rotation or algorithm change coexist with old rows


def _associated_data(purpose: str, resident_id: str) -> bytes:
    return b"smart-community-hub/" + purpose.encode() + b"/v1\x00" + resident_id.encode()


class FieldCipher:
    """Encrypts and decrypts blobs for one key; ``key_id`` is stored beside each blob to tell keys apart."""

    def __init__(self, key: bytes, key_id: str) -> None:
        self._aead = AESGCM(key)
        self.key_id = key_id

    def encrypt(self, plaintext: bytes, *, purpose: str, resident_id: str) -> bytes:
        """Return version byte + random nonce + ciphertext-with-tag."""
        nonce = os.urandom(_NONCE_BYTES)
        return _FORMAT + nonce + self._aead.encrypt(nonce, plaintext, _associated_data(purpose, resident_id))

    def decrypt(self, blob: bytes, *, purpose: str, resident_id: str, key_id: str | None = None) -> bytes:
        """Decrypt a blob made by :meth:`encrypt`; raise :class:`DecryptionError` saying why it failed."""
        if key_id is not None and key_id != self.key_id:
            raise DecryptionError(
                f"{purpose} of resident {resident_id} was encrypted with key {key_id}, but the loaded key file "
                f"is key {self.key_id}: wrong key file"
            )
        if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _FORMAT:
            raise DecryptionError(f"{purpose} of resident {resident_id} is not in a known ciphertext format")
        nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, _associated_data(purpose, resident_id))
        except InvalidTag:
            raise DecryptionError(
                f"{purpose} of resident {resident_id} failed authentication: wrong key, altered data, "
                "or data that belongs to another resident"
            ) from None
