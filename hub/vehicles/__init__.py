"""Vehicles at the car park's barriers: the registry (residents' vehicles, monthly vehicles, visitors' vehicles a
resident invites, white and black lists), the vehicle service that decides each plate read at a lane through
:func:`hub.access.decide.decide`, records it and opens the barrier, and the entrances as GA/T 1400 tollgates."""
