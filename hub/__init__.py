"""The hub's domain core, with no Home Assistant imports: doors and alarms, residents and credentials, the face
engine, access decisions, the event journal and outbox, the uplink, device health, privacy, the demo runner and
the benchmarks. Depends on :mod:`devices` for protocol work.
"""
