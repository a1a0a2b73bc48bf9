"""The ANPR receivers' errors: one base class (a device error), a few kinds a caller can act on."""

from __future__ import annotations

from ..exceptions import DeviceError, DeviceValueError


class AnprError(DeviceError):
    """Base class of every error the ANPR receivers raise."""


class AnprFormatError(AnprError, DeviceValueError):
    """What a camera sent is not the format it claims to be (not JSON / XML, a required field missing or wrong)."""


class AnprAuthError(AnprError):
    """A push did not authenticate (wrong secret, wrong credentials, replayed nonce, address not allowed)."""
