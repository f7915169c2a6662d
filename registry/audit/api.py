"""The audit trail over the API, for staff and their tools."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from registry.audit import service
from registry.audit.schemas import AuditEntryOut, AuditEntryPage
from registry.web import inputs
from registry.web.inputs import PageNumber


class AuditController(Controller):
    path = "/audit"
    tags = ["Audit trail"]

    @get("/", name="api_audit_trail", summary="Audit entries matching the filters, newest first")
    async def entries(
        self,
        action: Annotated[
            str, QueryParameter(max_length=80, description="prefix, like register.")
        ] = "",
        actor: Annotated[str, QueryParameter(max_length=254, description="part of the actor")] = "",
        target_type: Annotated[str, QueryParameter(max_length=60)] = "",
        target_id: Annotated[str, QueryParameter(max_length=80)] = "",
        occurred_from: Annotated[datetime | None, QueryParameter(description="included")] = None,
        occurred_before: Annotated[datetime | None, QueryParameter(description="excluded")] = None,
        page: PageNumber = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=service.MAX_PAGE_SIZE)] = 50,
    ) -> AuditEntryPage:
        inputs.check_moment("occurred_from", occurred_from)
        inputs.check_moment("occurred_before", occurred_before)
        found = await service.search(
            action=action,
            actor_label=actor,
            target_type=target_type,
            target_id=target_id,
            occurred_from=occurred_from,
            occurred_before=occurred_before,
            page=page,
            page_size=page_size,
        )
        return AuditEntryPage(
            items=[AuditEntryOut.of(entry) for entry in found.entries],
            total=found.total,
            page=found.page,
            page_size=found.page_size,
        )
