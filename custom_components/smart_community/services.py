"""The integration's actions: the commands of the table (``commands.py``) that have an action name.

Each action checks its caller (only administrators, when the command says so; an automation or a script acts as
the system), validates its fields with the command's schema, and runs the command on the loaded community. Errors
are the command's: ``ServiceValidationError`` with a translation key; nothing changes when one is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, cast

import voluptuous as vol
from homeassistant.auth.models import User
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import Unauthorized, UnknownUser

from .commands import COMMANDS, Command, async_execute, community_context
from .const import DOMAIN


async def _caller(call: ServiceCall, command: Command) -> User | None:
    """Who is calling (None: the system); refuses an unknown user, and a non-administrator where required."""
    user_id = call.context.user_id
    if user_id is None:
        return None
    user = await call.hass.auth.async_get_user(user_id)
    if user is None:
        raise UnknownUser(context=call.context)
    if command.admin_only and not user.is_admin:
        raise Unauthorized(context=call.context)
    return user


def _action(command: Command) -> Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]:
    async def action(call: ServiceCall) -> ServiceResponse:
        ctx = community_context(call.hass, await _caller(call, command))
        result = await async_execute(command, ctx, dict(call.data))
        return cast(ServiceResponse, result) if call.return_response else None

    action.__name__ = f"async_{command.service}"
    return action


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every action of the command table."""
    for command in COMMANDS:
        if command.service is None:
            continue
        hass.services.async_register(
            DOMAIN, command.service, _action(command), vol.Schema(command.fields),
            supports_response=SupportsResponse.OPTIONAL if command.returns else SupportsResponse.NONE,
        )
