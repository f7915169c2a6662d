"""The start page, and the pages the footer links to: accessibility, privacy, cookies, contact
and service status. What they say is in their templates; only the status page checks anything."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from registry.core import clock
from registry.web.health import check_readiness


class HomePage(Controller):
    include_in_schema = False

    @get("/", name="home")
    async def home(self) -> Template:
        return Template("home.html", context={"active_nav": "home"})


class SupportPages(Controller):
    """The footer's support links: each a page of GOV.UK-style content about this service."""

    include_in_schema = False

    @get("/accessibility", name="accessibility")
    async def accessibility(self) -> Template:
        return Template("support/accessibility.html")

    @get("/privacy", name="privacy")
    async def privacy(self) -> Template:
        return Template("support/privacy.html")

    @get("/cookies", name="cookies")
    async def cookies(self) -> Template:
        return Template("support/cookies.html")

    @get("/contact", name="contact")
    async def contact(self) -> Template:
        return Template("support/contact.html")

    @get("/service-status", name="service_status")
    async def service_status(self) -> Template:
        # Always 200: the page itself is working; /ready is the answer machines act on.
        return Template(
            "support/service_status.html",
            context={"readiness": await check_readiness(), "checked_at": clock.now()},
        )
