"""Errors of the privacy layer: a key file that cannot be trusted, data that will not decrypt."""

from hub.exceptions import HubError


class KeyFileError(HubError):
    """The key file is missing, malformed or readable by others; nothing was decrypted or written."""


class DecryptionError(HubError):
    """Stored ciphertext did not authenticate: wrong key file, altered data, or data moved to another resident."""
