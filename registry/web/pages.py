"""The start page of the service."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template


class HomePage(Controller):
    include_in_schema = False

    @get("/", name="home")
    async def home(self) -> Template:
        return Template("home.html", context={"active_nav": "home"})
