"""Upstream sync: field policy, request signing (and its verification, for receivers), the outbox-draining worker,
the JSON, GA/T 1400 and MQTT profiles. The county's reference receiver is developer tooling (``devkit.receiver``)."""

from .backoff import Backoff
from .errors import RejectedError, TransientUplinkError, UplinkError
from .gat1400_client import Gat1400Client
from .gat1400_config import Collection, Gat1400Config
from .gat1400_transport import Gat1400Transport
from .json_client import JsonUplinkClient
from .mqtt_client import MqttConfig, MqttTransport
from .policy import FORBIDDEN_FIELDS, OPTIONAL_FIELDS, FieldOption, FieldPolicy, LegalBasis, pseudonymous_ref
from .secret import Secret
from .status import UplinkStatus
from .transport import BatchResult, UplinkTransport
from .worker import UplinkWorker

__all__ = [
    "FORBIDDEN_FIELDS",
    "OPTIONAL_FIELDS",
    "Backoff",
    "BatchResult",
    "Collection",
    "FieldOption",
    "FieldPolicy",
    "Gat1400Client",
    "Gat1400Config",
    "Gat1400Transport",
    "JsonUplinkClient",
    "LegalBasis",
    "MqttConfig",
    "MqttTransport",
    "RejectedError",
    "Secret",
    "TransientUplinkError",
    "UplinkError",
    "UplinkStatus",
    "UplinkTransport",
    "UplinkWorker",
    "pseudonymous_ref",
]
