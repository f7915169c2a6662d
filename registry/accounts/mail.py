"""Links that let a person set a password: invitations and resets.

Until the outbox exists (issue 4) there is no way to send email, so in development the link is
written to the log for the developer to follow, and nowhere else; in any other environment it is
not written anywhere, because a logged link would let whoever reads the logs take the account.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

import structlog

from registry.config import Settings

log = structlog.get_logger("registry.accounts.mail")


def password_link(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/reset-password?{urlencode({'token': token})}"


def send_password_link(
    settings: Settings, email: str, token: str, *, purpose: Literal["reset", "invite"]
) -> None:
    if settings.environment == "development":
        log.info(
            "password_link_for_development",
            email=email,
            purpose=purpose,
            link=password_link(settings, token),
        )
    else:
        log.warning("password_link_not_sent", email=email, purpose=purpose, reason="no outbox yet")
