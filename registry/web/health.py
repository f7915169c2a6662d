"""Liveness and readiness, for load balancers and orchestrators (people read the same check on
the service status page)."""

from __future__ import annotations

import msgspec
import structlog
from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from registry.db import migration_state

log = structlog.get_logger("registry.health")


class Health(msgspec.Struct):
    status: str


READY = "ready"


class Readiness(msgspec.Struct):
    status: str
    database: str
    migrations: str
    reason: str | None = None

    @property
    def ready(self) -> bool:
        return self.status == READY


class HealthController(Controller):
    tags = ["Service"]

    @get("/health", name="health", summary="Liveness: the process answers", cache=False)
    async def health(self) -> Health:
        return Health(status="ok")

    @get(
        "/ready",
        name="ready",
        summary="Readiness: the database answers and every migration is applied",
        responses={
            HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
                data_container=Readiness, description="Not ready; `reason` says why"
            )
        },
        cache=False,
    )
    async def ready(self) -> Response[Readiness]:
        readiness = await check_readiness()
        status = HTTP_200_OK if readiness.ready else HTTP_503_SERVICE_UNAVAILABLE
        return Response(readiness, status_code=status)


async def check_readiness() -> Readiness:
    """Can the service do its work: does the database answer, with every migration applied?

    ``/ready`` answers it for load balancers and the service status page for people."""
    try:
        migrations = await migration_state()
    except Exception as error:  # any failure to reach the database means not ready
        log.warning("not_ready", reason="database unreachable", error=str(error))
        return _not_ready("unreachable", "unknown", "The database cannot be reached.")
    if not migrations.initialised:
        return _not_ready(
            "ok", "missing", "The database has not been migrated: run `registry migrate`."
        )
    if migrations.pending:
        pending = ", ".join(migrations.pending)
        return _not_ready(
            "ok", "pending", f"Migrations not applied: {pending}. Run `registry migrate`."
        )
    return Readiness(status=READY, database="ok", migrations="current")


def _not_ready(database: str, migrations: str, reason: str) -> Readiness:
    return Readiness(status="not_ready", database=database, migrations=migrations, reason=reason)
