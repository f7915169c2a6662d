"""The outbox for staff: what has gone, what is waiting, what gave up, and a retry for the last."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from registry.errors import Conflict
from registry.notifications import service
from registry.notifications.tables import MessageKind, MessageStatus
from registry.web.forms import FormErrors
from registry.web.inputs import PageNumber

PAGE_SIZE = 50
STATUS_LABELS = {
    MessageStatus.pending: ("Waiting", "govuk-tag--blue"),
    MessageStatus.sending: ("Sending", "govuk-tag--light-blue"),
    MessageStatus.sent: ("Sent", "govuk-tag--green"),
    MessageStatus.failed: ("Will retry", "govuk-tag--yellow"),
    MessageStatus.dead: ("Gave up", "govuk-tag--red"),
}


class OutboxPages(Controller):
    path = "/outbox"
    include_in_schema = False

    @get("/", name="outbox")
    async def outbox(
        self,
        status: Annotated[MessageStatus | None, QueryParameter()] = None,
        kind: Annotated[MessageKind | None, QueryParameter()] = None,
        page: PageNumber = 1,
    ) -> Template:
        found = await service.list_messages(
            status=status, kind=kind, page=page, page_size=PAGE_SIZE
        )
        filters = {k: v.value for k, v in (("status", status), ("kind", kind)) if v is not None}
        last_page = max(1, -(-found.total // PAGE_SIZE))
        return Template(
            "notifications/outbox.html",
            context={
                "found": found,
                "status": status.value if status else "",
                "kind": kind.value if kind else "",
                "labels": STATUS_LABELS,
                "statuses": list(MessageStatus),
                "status_items": [{"value": "", "text": "Any status"}]
                + [
                    {"value": each.value, "text": label, "selected": each is status}
                    for each, (label, _) in STATUS_LABELS.items()
                ],
                "previous_href": _href(filters, page - 1) if page > 1 else None,
                "next_href": _href(filters, page + 1) if page < last_page else None,
            },
        )

    @get("/{message_id:int}", name="outbox_message")
    async def message(self, message_id: FromPath[int]) -> Template:
        return await _message_page(message_id)

    @post("/{message_id:int}/retry", name="outbox_message_retry")
    async def retry(self, message_id: FromPath[int]) -> Template | Redirect:
        errors = FormErrors()
        with errors.catch(Conflict, field="retry"):
            await service.retry_now(message_id)
            return Redirect(f"/outbox/{message_id}?retried=1", status_code=303)
        return await _message_page(message_id, " ".join(errors.by_field.values()), errors.status)


async def _message_page(message_id: int, error: str = "", status: int = 200) -> Template:
    message, attempts = await service.get_message(message_id)
    errors = [{"text": error, "href": "#retry"}] if error else []
    context: dict[str, Any] = {
        "message": message,
        "attempts": attempts,
        "labels": STATUS_LABELS,
        "errors": errors,
    }
    return Template("notifications/message.html", context=context, status_code=status)


def _href(filters: dict[str, str], page: int) -> str:
    return "/outbox?" + urlencode({**filters, "page": page})
