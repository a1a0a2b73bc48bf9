"""The device layer's errors: one base class, a few kinds a caller can act on."""


class DeviceError(Exception):
    """Base class of every error a device driver raises."""


class DeviceConnectionError(DeviceError):
    """The device cannot be reached, or the connection dropped."""


class DeviceTimeoutError(DeviceConnectionError):
    """The device did not answer in time."""


class DeviceOutcomeUnknownError(DeviceConnectionError):
    """A command left for the device but no trustworthy answer came back: it may or may not have been applied.

    Raised for writes (a door release, a relay switched) when the connection dropped, the answer timed out or came
    back garbled after the request was sent. The driver never sends such a command again by itself; whoever asked
    for it must record that its outcome is unknown.
    """


class DeviceProtocolError(DeviceError):
    """The device answered, but with an exception code or a response that makes no sense."""


class DeviceValueError(DeviceError, ValueError):
    """A caller asked for something the device cannot do (no such door, a duration out of range)."""
