"""The panel's websocket commands: the commands of the table (``commands.py``) that have a websocket type.

``smart_community/<type>`` checks that the user is an administrator when the command says so (``unauthorized``),
validates the fields with the command's schema (``invalid_format``), and runs the command on the loaded community.
A command's translated error is sent with its code: ``no_community``, ``not_found`` or ``invalid_input`` (nothing
changed). The command list and the results are documented in docs/panel.md.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.components import websocket_api
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import WebSocketCommandHandler
from homeassistant.components.websocket_api.decorators import async_response, require_admin, websocket_command
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError

from .commands import COMMANDS as TABLE
from .commands import Command, async_execute, community_context
from .const import DOMAIN

PREFIX = f"{DOMAIN}/"
# Translation keys of the commands' errors that are websocket error codes of their own; any other is invalid_input.
_ERROR_CODES = {"no_community": "no_community", "not_found": "not_found"}


def _handler(command: Command, name: str) -> WebSocketCommandHandler:
    @websocket_command({vol.Required("type"): PREFIX + name, **command.fields})
    @async_response
    async def handler(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
        data = {key: value for key, value in msg.items() if key not in ("id", "type")}
        try:
            ctx = community_context(hass, connection.user, connection.refresh_token_id)
            result = await async_execute(command, ctx, data)
        except HomeAssistantError as err:
            connection.send_error(msg["id"], _ERROR_CODES.get(err.translation_key or "", "invalid_input"), str(err))
            return
        connection.send_result(msg["id"], result if result is not None else {})

    return require_admin(handler) if command.admin_only else handler


COMMANDS: list[WebSocketCommandHandler] = [
    _handler(command, command.websocket) for command in TABLE if command.websocket is not None
]


@callback
def async_setup_websocket(hass: HomeAssistant) -> None:
    """Register every panel command."""
    for handler in COMMANDS:
        websocket_api.async_register_command(hass, handler)
