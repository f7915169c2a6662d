"""The watchlist API: the organisation's watched numbers, its webhook endpoints and their
delivery logs, for a key with the ``watchlist`` scope or a member. Thin: read, call, answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.params import Body, JSONBody, PathParameter
from litestar.status_codes import (
    HTTP_201_CREATED,
    HTTP_204_NO_CONTENT,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
)
from pydantic import BaseModel, ConfigDict, Field

from registry.accounts.auth import SignedInRequest
from registry.config import Settings
from registry.employers import checks, keys, watchlists, webhooks
from registry.employers.api import CSV_LIMIT, CsvUpload
from registry.errors import InvalidInput
from registry.web.inputs import RowId, Text

NumberPath = Annotated[str, PathParameter(min_length=1, max_length=40)]


class WatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    registration_number: Text = Field(min_length=1, max_length=40)


class WatchlistIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # No length limit here: the service refuses a list over the limit in its own words (the
    # request's size in bytes is bounded by the server's body limit).
    registration_numbers: list[Annotated[Text, Field(max_length=40)]]


class WatchOut(BaseModel):
    registration_number: str
    added_at: datetime


class WatchlistOut(BaseModel):
    count: int
    watched: list[WatchOut]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Text = Field(min_length=1, max_length=2048)


class EndpointOut(BaseModel):
    id: int
    url: str
    created_at: datetime


class IssuedEndpointOut(EndpointOut):
    secret: str = Field(description="Signs every event; shown once, never again")


class AttemptOut(BaseModel):
    at: datetime
    outcome: str
    status_code: int | None  # the receiver's HTTP status; none if it never answered
    duration_ms: int | None
    error: str


class DeliveryOut(BaseModel):
    event_id: str
    type: str
    registration_number: str
    occurred_at: datetime
    status: str
    attempts: list[AttemptOut]


class TestEventOut(BaseModel):
    event_id: str


def _settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _by(user: Any) -> int | None:
    return None if isinstance(user, keys.KeyHolder) else int(user.id)


async def _list(organisation_id: int) -> WatchlistOut:
    rows = await watchlists.watched(organisation_id)
    return WatchlistOut(count=len(rows), watched=[WatchOut(**r) for r in rows])


class WatchlistController(Controller):
    path = "/organisation/watchlist"
    tags = ["Employers"]

    @get("/", name="api_watchlist", summary="Your organisation's watched numbers")
    async def list_watched(self, request: SignedInRequest) -> WatchlistOut:
        return await _list(await watchlists.organisation_of(request.user))

    @post(
        "/",
        name="api_watchlist_add",
        status_code=HTTP_201_CREATED,
        summary="Watch one registration number",
    )
    async def add(self, request: SignedInRequest, data: JSONBody[WatchIn]) -> WatchOut:
        organisation_id = await watchlists.organisation_of(request.user)
        number = await watchlists.add(organisation_id, data.registration_number)
        rows = await watchlists.watched(organisation_id)
        return WatchOut(**next(r for r in rows if r["registration_number"] == number))

    @put("/", name="api_watchlist_replace", summary="Replace the whole watchlist")
    async def replace(self, request: SignedInRequest, data: JSONBody[WatchlistIn]) -> WatchlistOut:
        organisation_id = await watchlists.organisation_of(request.user)
        await watchlists.replace(organisation_id, data.registration_numbers)
        return await _list(organisation_id)

    @put(
        "/csv",
        name="api_watchlist_replace_csv",
        request_max_body_size=CSV_LIMIT + 64 * 1024,
        summary="Replace the whole watchlist from a CSV file's `registration_number` column",
    )
    async def replace_csv(
        self,
        request: SignedInRequest,
        data: Annotated[CsvUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> WatchlistOut:
        organisation_id = await watchlists.organisation_of(request.user)
        if data.file is None:
            raise InvalidInput("Send the CSV file as the multipart part `file`", field="file")
        content = await data.file.read(CSV_LIMIT + 1)
        if len(content) > CSV_LIMIT:
            raise HTTPException(
                status_code=HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                detail=f"The file must be {CSV_LIMIT // (1024 * 1024)} MB or smaller",
            )
        try:
            inputs = checks.read_csv(content)
        except checks.ListTooLong as error:
            raise watchlists.too_many(error.count) from None
        await watchlists.replace(organisation_id, inputs)
        return await _list(organisation_id)

    @delete(
        "/{number:str}",
        name="api_watchlist_remove",
        status_code=HTTP_204_NO_CONTENT,
        summary="Stop watching a number",
    )
    async def remove(self, request: SignedInRequest, number: NumberPath) -> None:
        organisation_id = await watchlists.organisation_of(request.user)
        await watchlists.remove(organisation_id, number)


def _endpoint_out(endpoint: watchlists.Endpoint) -> EndpointOut:
    return EndpointOut(id=endpoint.id, url=endpoint.url, created_at=endpoint.created_at)


class WebhookController(Controller):
    path = "/organisation/webhooks"
    tags = ["Employers"]

    @get("/", name="api_webhooks", summary="Your organisation's webhook endpoints")
    async def list_endpoints(self, request: SignedInRequest) -> list[EndpointOut]:
        organisation_id = await watchlists.organisation_of(request.user)
        return [_endpoint_out(e) for e in await watchlists.endpoints(organisation_id)]

    @post(
        "/",
        name="api_webhook_create",
        status_code=HTTP_201_CREATED,
        summary="Add a webhook endpoint (https); its signing secret is shown once",
    )
    async def create(
        self, request: SignedInRequest, data: JSONBody[EndpointIn]
    ) -> IssuedEndpointOut:
        organisation_id = await watchlists.organisation_of(request.user)
        settings = _settings(request)
        endpoint, secret = await watchlists.add_endpoint(
            organisation_id,
            data.url,
            environment=settings.environment,
            secret_key=settings.secret_key,
            by_user_id=_by(request.user),
        )
        return IssuedEndpointOut(**_endpoint_out(endpoint).model_dump(), secret=secret)

    @delete(
        "/{endpoint_id:int}",
        name="api_webhook_remove",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove a webhook endpoint",
    )
    async def remove(self, request: SignedInRequest, endpoint_id: RowId) -> None:
        organisation_id = await watchlists.organisation_of(request.user)
        await watchlists.remove_endpoint(organisation_id, endpoint_id)

    @get(
        "/{endpoint_id:int}/deliveries",
        name="api_webhook_deliveries",
        summary="The endpoint's latest events and each attempt to deliver them",
    )
    async def deliveries(self, request: SignedInRequest, endpoint_id: RowId) -> list[DeliveryOut]:
        organisation_id = await watchlists.organisation_of(request.user)
        log = await watchlists.delivery_log(organisation_id, endpoint_id)
        return [
            DeliveryOut(
                event_id=d.event_id,
                type=d.event_type,
                registration_number=d.registration_number,
                occurred_at=d.occurred_at,
                status=d.status,
                attempts=[AttemptOut(**a) for a in d.attempts],
            )
            for d in log
        ]

    @post(
        "/{endpoint_id:int}/test",
        name="api_webhook_test",
        status_code=HTTP_201_CREATED,
        summary="Send a test event to the endpoint",
    )
    async def test(self, request: SignedInRequest, endpoint_id: RowId) -> TestEventOut:
        organisation_id = await watchlists.organisation_of(request.user)
        return TestEventOut(event_id=await webhooks.send_test(organisation_id, endpoint_id))
