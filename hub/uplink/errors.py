"""Errors of the uplink: transient (retry with backoff) and rejected (the receiver said no)."""

from hub.exceptions import HubError


class UplinkError(HubError):
    """Base class of uplink failures."""


class TransientUplinkError(UplinkError):
    """The receiver could not be reached or answered with a server error: try again later."""


class RejectedError(UplinkError):
    """The receiver refused the request (signature, timestamp, credentials, format): a configuration problem."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
