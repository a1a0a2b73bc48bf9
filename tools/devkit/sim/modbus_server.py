"""What every simulated Modbus device shares: listening on a real TCP socket, and cutting and restoring its link."""

from __future__ import annotations

import logging

from devices import _pymodbus as mb

_LOGGER = logging.getLogger(__name__)


class ModbusSimServer:
    """A Modbus TCP listener for a simulator's datastore; the port is kept across link cuts."""

    def __init__(self, store: mb.SimDatastore, *, host: str, port: int, label: str) -> None:
        self.host = host
        self.port = port
        self._store = store
        self._label = label
        self._server: mb.ModbusTcpServer | None = None

    @property
    def running(self) -> bool:
        """Whether the Modbus listener is up (the link is not cut)."""
        return self._server is not None

    async def start(self) -> None:
        """Start listening; after the first start the port stays the same across link cuts."""
        if self._server is not None:
            return
        server = mb.make_server(self._store, self.host, self.port)
        try:
            self.port = await mb.start_server(server)
        except OSError as err:
            raise OSError(f"cannot listen on {self.host}:{self.port}: {err}") from err
        self._server = server
        _LOGGER.info("%s listening on %s:%s", self._label, self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and drop every client connection."""
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()

    async def set_link(self, up: bool) -> None:
        """Cut (``False``) or restore (``True``) the network link."""
        if up:
            await self.start()
        else:
            await self.stop()
