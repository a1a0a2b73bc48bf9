"""Protocol drivers for the hub's devices (Modbus TCP door controllers, cameras, zeroconf); their simulators are
tooling (``devkit.sim``).

Nothing here imports Home Assistant or the hub's domain code: the package is a plain asyncio library.
"""
