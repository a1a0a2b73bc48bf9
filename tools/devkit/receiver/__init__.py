"""The county side of the JSON uplink profile, for the demo, the benchmarks and tests: a reference receiver, its
store, its command and a small client of its read API. The signatures it checks are the library's
(:mod:`hub.uplink.signing`)."""

from .server import ReferenceReceiver

__all__ = ["ReferenceReceiver"]
