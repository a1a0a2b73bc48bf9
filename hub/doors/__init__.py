"""Door semantics on top of the device drivers: the door-state machine (forced open, held open, tamper), modes,
and the controller service through which every release is sent, always with a recorded reason."""

from .ids import DoorId
from .io_driver import IoModuleDriver
from .monitor import AlarmEvent, AlarmKind, DoorMonitor
from .service import ControllerService, ControllerSnapshot, CredentialReadEvent, DoorDriver, DoorView, ReleaseReason

__all__ = [
    "AlarmEvent",
    "AlarmKind",
    "ControllerService",
    "ControllerSnapshot",
    "CredentialReadEvent",
    "DoorDriver",
    "DoorId",
    "DoorMonitor",
    "DoorView",
    "IoModuleDriver",
    "ReleaseReason",
]
