"""The tombstone reference: what remains of an erased resident is a keyed hash of their id, nothing else."""

from __future__ import annotations

import hashlib
import hmac


def tombstone_ref(key: bytes, resident_id: str) -> str:
    """A keyed hash of a resident id: lets the hub refuse reuse of an erased id without keeping the id.

    Keyed so that someone holding only the database cannot confirm a guessed id was erased here.
    """
    return hmac.new(key, resident_id.encode(), hashlib.sha256).hexdigest()
