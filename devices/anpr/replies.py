"""What the hub answers a camera after a read: open the barrier or not, and what its display may say."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class BarrierReply:
    """The hub's answer to one read. ``open``: raise the barrier (only a Vzenith camera's relay follows the reply
    itself; for the other formats the hub opens through the barrier client). ``display``: text for the camera's
    LED screen / voice where the format carries it (``None``: the camera shows what it is set up to show)."""

    open: bool
    display: str | None = None


REFUSE = BarrierReply(open=False)
