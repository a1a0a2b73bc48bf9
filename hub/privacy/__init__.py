"""Privacy by construction: the key file, field encryption (AES-GCM bound to a resident), audit hooks,
erasure with receipts.

Submodules are imported explicitly (``hub.privacy.keys``, ``hub.privacy.encryption``, ``hub.privacy.erasure``)
so that the registry can use the cipher without pulling in the erasure code that depends on the registry.
"""
