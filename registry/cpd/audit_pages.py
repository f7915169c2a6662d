"""CPD audit pages for staff: the figures per year, with a chart, and as CSV."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.response import Template

from registry.cpd import audit_workflow
from registry.cpd.audit_api import statistics_csv

BARS = (
    ("sampled", "Sampled"),
    ("submitted", "Submitted"),
    ("on_time", "On time"),
    ("met", "Met the standards"),
    ("not_met", "Did not meet them"),
)


class AuditStatisticsPages(Controller):
    path = "/cpd/audit/statistics"
    include_in_schema = False

    @get("/", name="cpd_audit_statistics")
    async def page(self) -> Template:
        return Template(
            "cpd/audit_statistics.html",
            context={"years": await audit_workflow.statistics(), "bars": BARS},
        )

    @get("/statistics.csv", name="cpd_audit_statistics_csv")
    async def csv(self) -> Response[bytes]:
        return Response(
            await statistics_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="cpd-audit-statistics.csv"'},
        )
