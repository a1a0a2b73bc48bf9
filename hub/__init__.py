"""The hub's domain core, with no Home Assistant imports: doors and alarms, residents and credentials, the face
engine, access decisions, the event journal and outbox, the uplink, device health, privacy. Depends on
:mod:`devices` for protocol work. The demo, the simulators, the benchmarks and the CLI are tooling (``devkit``).
"""
