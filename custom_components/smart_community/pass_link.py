"""The visitor-pass link: a page a manager sends a visitor, opened without a Home Assistant login.

``GET /api/smart_community/pass/<link>`` shows the pass (the community, the visitor's name, the time window, the
gates and the QR code the gate camera reads) and ``.../<link>/card.png`` is the same pass as a card image. The link
is the pass id and a 256-bit MAC of it (``hub.residents.pass_token.sign_link``): it cannot be guessed, so how fast
someone tries does not matter, and it is not the QR code's token. Once the pass has expired, been revoked or used up
the link shows nothing of it; a link that is not the hub's gets the same page (same status, same headers) with other
words. Nothing else is ever shown: not who issued the pass, not its uses, not any resident's data. Responses are
never cached and send no referrer.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.util import dt as dt_util

from hub.exceptions import HubError
from hub.residents.qr import format_window

from .commands import PASS_LINK_URL
from .community import CommunityRuntimeData, loaded_community
from .places import HaPlace, async_ha_places, display_names, resolve_places

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
}
NOT_VALID = "This pass link is not valid. Ask the person who sent it for a new one."
NO_LONGER = "This visitor pass can no longer be used: it has expired or was withdrawn. Ask for a new one."
_STYLE = ("body{font-family:system-ui,sans-serif;margin:0;background:#f3f5f8;color:#111}"
          "main{max-width:440px;margin:24px auto;background:#fff;border-radius:12px;overflow:hidden;"
          "box-shadow:0 1px 4px #0002}header{background:#1f5fa8;color:#fff;padding:18px 22px}"
          "header p{margin:4px 0 0;opacity:.85;font-size:14px}section{padding:18px 22px}"
          "h1{font-size:26px;margin:0 0 8px}img{display:block;width:100%;max-width:320px;margin:12px auto;"
          "image-rendering:pixelated}a{color:#1f5fa8}.muted{color:#555;font-size:14px}")


def _page(title: str, body: str, status: int) -> web.Response:
    text = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>")
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)


def _nothing(words: str) -> web.Response:
    """The one page for every link that shows no pass (unknown, altered, expired, revoked, used up)."""
    return _page("Visitor pass", f'<section><h1>Visitor pass</h1><p data-testid="pass-link-message">'
                                 f"{html.escape(words)}</p></section>", 404)


@dataclass(frozen=True)
class _Shown:
    """What the link may show of a pass: nothing about who issued it or how often it was used."""

    visitor_name: str
    valid_from: datetime
    valid_until: datetime
    gates: list[str]
    image: bytes  # the QR code for the page, the card for card.png


def _lookup(runtime: CommunityRuntimeData, link: str, community: str, card: bool,
            ha_places: Mapping[str, HaPlace]) -> tuple[_Shown | None, bool]:
    """Blocking, on the community's read connection: what a link shows, and whether the link is the hub's."""
    reads = runtime.community.reads

    def read() -> tuple[_Shown | None, bool]:
        passes = reads.registry.passes
        found, known = passes.pass_for_link(link)
        if found is None:
            return None, known
        doors = display_names(resolve_places(ha_places, {d.door_id: d.name for d in reads.access_config.list_doors()}))
        image = passes.pass_card_png(found.pass_id, community=community, door_names=doors,
                                     tz=dt_util.get_default_time_zone()) if card else passes.pass_qr_png(found.pass_id)
        return _Shown(found.visitor_name, found.valid_from, found.valid_until,
                      [doors.get(d, d) for d in sorted(found.door_ids)], image), True

    return runtime.community.read(read)


class PassLinkView(HomeAssistantView):
    """``GET /api/smart_community/pass/{link}`` (the page) and ``.../{link}/card.png`` (the card image); no login."""

    url = PASS_LINK_URL + "/{link}"
    extra_urls = [PASS_LINK_URL + "/{link}/card.png"]
    name = "api:smart_community:pass_link"
    requires_auth = False

    async def get(self, request: web.Request, link: str) -> web.StreamResponse:
        hass: HomeAssistant = request.app["hass"]
        card = request.path.endswith("/card.png")
        entry = loaded_community(hass)
        if entry is None:
            return _nothing(NOT_VALID)
        try:
            shown, known = await hass.async_add_executor_job(_lookup, entry.runtime_data, link, entry.title, card,
                                                             async_ha_places(hass))
        except HubError:
            return _nothing(NOT_VALID)
        if shown is None:
            return _nothing(NO_LONGER if known else NOT_VALID)
        if card:
            return web.Response(body=shown.image, content_type="image/png", headers={
                **HEADERS, "Content-Disposition": 'attachment; filename="visitor-pass.png"'})
        tz = dt_util.get_default_time_zone()
        qr = base64.b64encode(shown.image).decode()
        window = format_window(shown.valid_from, shown.valid_until, tz)
        starts = ""
        if shown.valid_from > dt_util.utcnow():
            starts = (f'<p data-testid="pass-link-starts"><strong>Starts '
                      f"{html.escape(window.split(' to ')[0])}</strong></p>")
        body = (f"<header><strong>{html.escape(entry.title)}</strong><p>Visitor pass</p></header><section>"
                f'<h1 data-testid="pass-link-visitor">{html.escape(shown.visitor_name)}</h1>{starts}'
                f'<p data-testid="pass-link-window">Valid {html.escape(window)}</p>'
                f'<p data-testid="pass-link-gates">Gates: {html.escape(", ".join(shown.gates))}</p>'
                f'<img data-testid="pass-link-qr" src="data:image/png;base64,{qr}" alt="QR code of the pass">'
                f'<p class="muted">Show this code to the gate camera.</p>'
                f'<p><a data-testid="pass-link-card" href="{html.escape(request.path)}/card.png" download>'
                f"Download the pass card</a></p></section>")
        return _page(f"Visitor pass - {entry.title}", body, 200)
