"""Who asked: the Home Assistant user, automation or script behind a service call, from its context."""

from __future__ import annotations

from collections.abc import Collection

from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import Unauthorized

from hub.gate import Actor

_RUNNERS = ("automation", "script")


async def async_actor(hass: HomeAssistant, context: Context | None) -> Actor:
    """The user (id and name) who made the call, and the automation or script whose run it is.

    An automation or script runs its actions with the context it wrote its own state with when it started, so
    the runner is the automation/script entity whose current state carries this context's id; the user is the
    context's own, or the parent context's when Home Assistant linked the run to a user.
    """
    if context is None:
        return Actor()
    automation = next(
        (state.entity_id for domain in _RUNNERS for state in hass.states.async_all(domain)
         if state.context.id == context.id),
        None,
    )
    user_id = context.user_id
    name = None
    if user_id is not None and (user := await hass.auth.async_get_user(user_id)) is not None:
        name = user.name
    return Actor(user_id=user_id, user_name=name, automation=automation)


async def async_require_door_operator(
    hass: HomeAssistant, context: Context | None, actor: Actor, operators: Collection[str], entity_id: str | None
) -> None:
    """Who may release a door or change its mode: administrators, the users the manager named (``operators``,
    user ids), and automations and scripts (recorded with their entity id). Anyone else is refused as Home
    Assistant refuses an unauthorised call, and nothing moves."""
    if actor.automation is not None or context is None or context.user_id is None:
        return  # an automation, a script or Home Assistant itself
    user = await hass.auth.async_get_user(context.user_id)
    if user is not None and (user.is_admin or user.id in operators):
        return
    raise Unauthorized(context=context, user_id=context.user_id, entity_id=entity_id, permission=POLICY_CONTROL)
