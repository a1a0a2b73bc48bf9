"""Plate-recognition (ANPR) cameras: what they push, parsed into :class:`PlateRead` records.

Nothing here imports Home Assistant or the hub's domain code.
"""

from .models import PlateColor, PlateImage, PlateRead

__all__ = ["PlateColor", "PlateImage", "PlateRead"]
