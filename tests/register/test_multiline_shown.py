"""Text typed on several lines (a declaration's details, the registrar's question, the
applicant's answer, a reason for rejecting) is shown on several lines wherever it appears, and
is still escaped: a line break is the only mark-up it gains."""

from __future__ import annotations

import httpx

from registry.accounts.auth import SESSION_COOKIE
from registry.accounts.roles import Role
from registry.config import Settings
from registry.register.tables import Application
from registry.web.templating import multiline
from tests.accounts.helpers import make_user, sign_in
from tests.register.applying import submitted_application
from tests.register.browsing import post_form

DETAILS = "Asthma since 2001\nWell controlled <b>with</b> an inhaler"
SHOWN_DETAILS = "Asthma since 2001<br>Well controlled &lt;b&gt;with&lt;/b&gt; an inhaler"


def test_the_filter_escapes_each_line_and_keeps_the_breaks() -> None:
    assert multiline("one\r\n<two>\nthree") == "one<br>&lt;two&gt;<br>three"
    assert multiline("") == ""
    assert multiline(None) == ""


async def test_line_breaks_reach_the_applicant_and_the_registrar(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    applicant = await make_user(Role.practitioner, "lines@example.org")
    record = await submitted_application(settings.data_dir, applicant)
    # The health answer as the applicant typed it, on two lines.
    await Application.update({Application.health_details: DETAILS}).where(
        Application.id == record.id
    )
    # One browser, signed in as each of them in turn.
    registrar_account = await make_user(Role.registrar, "lines.r@example.org")
    sessions = {
        who: (await sign_in(account)).session_token
        for who, account in (("registrar", registrar_account), ("applicant", applicant))
    }

    def as_(who: str) -> httpx.AsyncClient:
        client.cookies.set(SESSION_COOKIE, sessions[who])
        client.headers["accept"] = "text/html"
        return client

    path = f"/registrar/applications/{record.id}"

    async def pages() -> list[httpx.Response]:
        return [await as_("registrar").get(path), await as_("applicant").get("/your-application")]

    asked = await post_form(
        as_("registrar"),
        f"{path}/request-information",
        {"question": "Which module did you fail?\nAnd when did you resit it?"},
        page=path,
    )
    assert asked.status_code == 303

    asking = await as_("applicant").get("/your-application")
    assert "Which module did you fail?<br>And when did you resit it?" in asking.text
    await post_form(
        as_("applicant"),
        "/your-application/answer",
        {"information_response": "Module 4\nResat in June"},
        page="/your-application",
    )

    for page in await pages():
        assert SHOWN_DETAILS in page.text
        assert "Which module did you fail?<br>And when did you resit it?" in page.text
        assert "Module 4<br>Resat in June" in page.text
        assert "<b>with</b>" not in page.text

    rejected = await post_form(
        as_("registrar"),
        f"{path}/reject",
        {"reason": "No resit evidence.\nApply again."},
        page=path,
    )
    assert rejected.status_code == 303
    for page in await pages():
        assert "No resit evidence.<br>Apply again." in page.text
