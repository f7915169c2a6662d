"""Email messages: a plain-text and an HTML part from Jinja2 templates, in GOV.UK Notify's plain
style (one column, Arial, no images, links written out in full).

Each message ``name`` has ``name.txt`` and ``name.html`` in the email templates folder of the
domain that sends it (named in its manifest); both extend ``base`` here, which adds the
greeting-free header and the footer saying who sent it and why.
"""

from __future__ import annotations

import functools
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from registry import REGULATOR_NAME, SERVICE_NAME
from registry.config import Settings
from registry.core.domain import active_domains, email_template_folders
from registry.errors import InvalidInput

TEMPLATES = Path(__file__).resolve().parent / "templates" / "email"


def _folders() -> tuple[Path, ...]:
    return tuple(email_template_folders(active_domains()))


def _environment(autoescape: bool) -> Environment:
    return _environment_for(autoescape, _folders())


@functools.cache
def _environment_for(autoescape: bool, folders: tuple[Path, ...]) -> Environment:
    environment = Environment(
        loader=FileSystemLoader([str(folder) for folder in folders]),
        autoescape=autoescape,  # noqa: S701 - off only for the plain-text part
        undefined=StrictUndefined,  # a missing value fails the send, never prints a blank
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.globals.update(service_name=SERVICE_NAME, regulator_name=REGULATOR_NAME)
    return environment


def check_template(name: str) -> None:
    """Refuse, when a message is queued, a template that does not exist."""
    if problem := _template_problem(name, _folders()):
        raise InvalidInput(problem, field="template")


@functools.lru_cache(maxsize=256)
def _template_problem(name: str, folders: tuple[Path, ...]) -> str:
    # Remembered per name and template folders (the files ship with the code and change only
    # with a new release, so a restart): every queued email asks, and two file lookups cost
    # more than the rest of queueing it.
    folder = next((f for f in folders if (f / f"{name}.txt").is_file()), None)
    if not name.replace("_", "").isalnum() or folder is None:
        return f"There is no email template called '{name}'"
    if not (folder / f"{name}.html").is_file():
        return f"The email template '{name}' has no HTML part"
    return ""


def render(name: str, context: dict[str, Any], settings: Settings) -> tuple[str, str]:
    """The plain-text and HTML bodies of message ``name``."""
    values = {**context, "base_url": settings.base_url}
    try:
        text = _environment(False).get_template(f"{name}.txt").render(values)
        html = _environment(True).get_template(f"{name}.html").render(values)
    except TemplateNotFound as missing:
        raise InvalidInput(f"There is no email template called '{name}'") from missing
    return text, html


def build(
    *,
    settings: Settings,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    message_id: int,
) -> EmailMessage:
    text, html = render(template, context, settings)
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = to
    email["Subject"] = subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message_id}")
    # Lets a mailbox, or a test, tie a received email to its outbox message.
    email["X-Registry-Message"] = str(message_id)
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    return email
