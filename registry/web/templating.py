"""Jinja2 with the GOV.UK Frontend macros, and templates found beside each domain package."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    select_autoescape,
)
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from markupsafe import Markup, escape

from registry import REGULATOR_NAME, SERVICE_NAME
from registry.core.domain import Domain, navigation

REGISTRY_PACKAGE = Path(__file__).resolve().parent.parent


def template_directories() -> list[Path]:
    """``templates/`` of the web package first, then of every domain package that has one."""
    shared = REGISTRY_PACKAGE / "web" / "templates"
    domains = sorted(p for p in REGISTRY_PACKAGE.glob("*/templates") if p != shared)
    return [shared, *domains]


def create_environment(domains: Sequence[Domain] = ()) -> Environment:
    environment = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader([str(path) for path in template_directories()]),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        enable_async=False,
    )
    environment.filters["display"] = display_value
    environment.filters["multiline"] = multiline
    environment.globals.update(
        service_name=SERVICE_NAME,
        regulator_name=REGULATOR_NAME,
        main_navigation=functools.partial(main_navigation, domains),
    )
    return environment


def display_value(value: Any) -> str:
    """A stored value as a person reads it: lists joined, nothing shown as a dash."""
    if value is None or value == "" or value == []:
        return "\N{EN DASH}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(display_value(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {display_value(item)}" for key, item in value.items())
    return str(value)


def multiline(text: str | None) -> Markup:
    """Text as it was typed, escaped, its line breaks kept: an answer, a declaration's details,
    a registrar's question or reason. HTML folds newlines into spaces, so each becomes <br>."""
    return Markup("<br>").join(escape(line) for line in (text or "").splitlines())


def main_navigation(domains: Sequence[Domain], user: Any, path: str) -> list[dict[str, Any]]:
    """The service navigation: what this visitor can reach, with the current section marked."""
    return [
        {"href": item.href, "text": item.text, "active": path.startswith(item.href)}
        for item in navigation(domains, user)
    ]


def template_config(domains: Sequence[Domain]) -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(create_environment(domains)))
