"""The device layer's errors: one base class, a few kinds a caller can act on."""


class DeviceError(Exception):
    """Base class of every error a device driver raises."""


class DeviceConnectionError(DeviceError):
    """The device cannot be reached, or the connection dropped."""


class DeviceTimeoutError(DeviceConnectionError):
    """The device did not answer in time."""


class DeviceProtocolError(DeviceError):
    """The device answered, but with an exception code or a response that makes no sense."""


class DeviceValueError(DeviceError, ValueError):
    """A caller asked for something the device cannot do (no such door, a duration out of range)."""
