"""Plate-recognition (ANPR) cameras: what they push, parsed into :class:`PlateRead` records.

One pure parser per wire format (``hikvision``, ``dahua``, ``vzenith``, ``frigate``), plate normalisation and OCR
confusions (``plates``), the receivers' authentication (``auth``), the hub's HTTP receiver (``server``), Frigate's
MQTT subscriber (``frigate``) and the Hikvision barrier client (``barrier``). Nothing here imports Home Assistant
or the hub's domain code.
"""

from .errors import AnprAuthError, AnprError, AnprFormatError
from .models import PlateColor, PlateImage, PlateRead
from .replies import BarrierReply

__all__ = ["AnprAuthError", "AnprError", "AnprFormatError", "BarrierReply", "PlateColor", "PlateImage", "PlateRead"]
