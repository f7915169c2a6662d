"""The watchlist page: watched numbers (add, remove, replace from a CSV or pasted list), webhook
endpoints (add with the secret shown once, remove, send a test event) and each endpoint's
delivery log. Thin: read the form, call the service, render."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry.accounts.auth import SignedInRequest
from registry.config import Settings
from registry.employers import checks, watchlists, webhooks
from registry.employers.pages import _read_inputs, _text
from registry.errors import InvalidInput, NotFound
from registry.web.forms import FormErrors, form_page, read_form

SEE_OTHER: Literal[303] = 303
WATCHLIST_PAGE = "/organisation/watchlist"
BODY_LIMIT = 2 * 1024 * 1024 + 64 * 1024
DONE = {
    "added": "Number added to your watchlist",
    "removed": "Number removed from your watchlist",
    "replaced": "Watchlist replaced",
    "endpoint_removed": "Webhook endpoint removed",
    "test": "Test event queued: it appears in the endpoint's delivery log",
}


async def _page(
    request: SignedInRequest,
    errors: FormErrors | None = None,
    values: dict[str, Any] | None = None,
    *,
    banner: str = "",
    secret: str = "",
) -> Template:
    organisation_id = await watchlists.organisation_of(request.user)
    return form_page(
        "employers/watchlist.html",
        errors or FormErrors(),
        watched=await watchlists.watched(organisation_id),
        endpoints=await watchlists.endpoints(organisation_id),
        values=values or {},
        banner=banner,
        secret=secret,
        max_numbers=checks.MAX_NUMBERS,
    )


def _renamed(by_field: dict[str, str], field: str) -> dict[str, str]:
    # The service names its list field; the page's form field has its own name.
    return {(field if k == "registration_numbers" else k): v for k, v in by_field.items()}


class WatchlistPages(Controller):
    path = WATCHLIST_PAGE
    include_in_schema = False

    @get("/", name="watchlist_page")
    async def page(self, request: SignedInRequest) -> Template:
        return await _page(request, banner=DONE.get(request.query_params.get("done", ""), ""))

    @post("/add", name="watchlist_add")
    async def add(self, request: SignedInRequest) -> Template | Redirect:
        organisation_id = await watchlists.organisation_of(request.user)
        values = await read_form(request)
        errors = FormErrors()
        with errors.catch(InvalidInput, field="registration_number"):
            await watchlists.add(organisation_id, _text(values, "registration_number"))
            return Redirect(f"{WATCHLIST_PAGE}?done=added", status_code=SEE_OTHER)
        return await _page(request, errors, values)

    @post("/remove", name="watchlist_remove")
    async def remove(self, request: SignedInRequest) -> Redirect:
        organisation_id = await watchlists.organisation_of(request.user)
        values = await read_form(request)
        await watchlists.remove(organisation_id, _text(values, "registration_number"))
        return Redirect(f"{WATCHLIST_PAGE}?done=removed", status_code=SEE_OTHER)

    @post("/replace", name="watchlist_replace", request_max_body_size=BODY_LIMIT)
    async def replace(self, request: SignedInRequest) -> Template | Redirect:
        organisation_id = await watchlists.organisation_of(request.user)
        values = await read_form(request)
        errors = FormErrors()
        with errors.catch(InvalidInput, field="numbers"):
            try:
                inputs = await _read_inputs(values)
            except checks.ListTooLong as error:
                raise watchlists.too_many(error.count) from None
            await watchlists.replace(organisation_id, inputs)
            return Redirect(f"{WATCHLIST_PAGE}?done=replaced", status_code=SEE_OTHER)
        errors.by_field = _renamed(errors.by_field, "numbers")
        shown = {k: v for k, v in values.items() if k != "file"}
        return await _page(request, errors, shown)

    @post("/webhooks", name="webhook_create", status_code=200)
    async def create_endpoint(self, request: SignedInRequest) -> Template:
        organisation_id = await watchlists.organisation_of(request.user)
        values = await read_form(request)
        settings: Settings = request.app.state.settings
        errors = FormErrors()
        with errors.catch(InvalidInput, field="url"):
            _, secret = await watchlists.add_endpoint(
                organisation_id,
                _text(values, "url"),
                environment=settings.environment,
                secret_key=settings.secret_key,
                by_user_id=request.user.id,
            )
            # The secret is on this page once, never again: shown, not redirected to.
            return await _page(request, banner="Webhook endpoint added", secret=secret)
        return await _page(request, errors, values)

    @post("/webhooks/{endpoint_id:int}/remove", name="webhook_remove")
    async def remove_endpoint(
        self, request: SignedInRequest, endpoint_id: FromPath[int]
    ) -> Redirect:
        organisation_id = await watchlists.organisation_of(request.user)
        await watchlists.remove_endpoint(organisation_id, endpoint_id)
        return Redirect(f"{WATCHLIST_PAGE}?done=endpoint_removed", status_code=SEE_OTHER)

    @post("/webhooks/{endpoint_id:int}/test", name="webhook_test")
    async def test(self, request: SignedInRequest, endpoint_id: FromPath[int]) -> Redirect:
        organisation_id = await watchlists.organisation_of(request.user)
        await webhooks.send_test(organisation_id, endpoint_id)
        return Redirect(f"{WATCHLIST_PAGE}?done=test", status_code=SEE_OTHER)

    @get("/webhooks/{endpoint_id:int}", name="webhook_deliveries")
    async def deliveries(self, request: SignedInRequest, endpoint_id: FromPath[int]) -> Template:
        organisation_id = await watchlists.organisation_of(request.user)
        endpoint = next(
            (e for e in await watchlists.endpoints(organisation_id) if e.id == endpoint_id), None
        )
        if endpoint is None:
            raise NotFound(watchlists.NO_ENDPOINT)
        log = await watchlists.delivery_log(organisation_id, endpoint_id)
        return Template(
            "employers/webhook_deliveries.html", context={"endpoint": endpoint, "log": log}
        )
