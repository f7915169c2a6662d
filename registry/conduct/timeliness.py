"""How quickly cases are handled, live: for each quarter, the median and 90th percentile of the
weeks from receipt to the triage decision, to the case examiners' decision and to the final
decision (counted in the quarter the decision was made), and the open caseload by age.

Where a regulator publishes these yearly, these are current to the minute: read from the
cases' own timestamps, which the workflow writes with each decision.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from registry.conduct.tables import Case, Stage
from registry.core import clock

MEASURES = (
    ("triage", "triage_decided_at", "Receipt to triage decision"),
    ("case_examiners", "examiners_decided_at", "Receipt to case examiners' decision"),
    ("final", "final_decided_at", "Receipt to final decision"),
)
AGE_BANDS = ((0, 26, "0 to 26 weeks"), (26, 52, "26 to 52 weeks"), (52, 104, "52 to 104 weeks"))
OLDEST_BAND = "Over 104 weeks"
WEEK_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class QuarterFigure:
    quarter: str  # "2027-Q1"
    measure: str
    label: str
    cases: int
    median_weeks: float
    p90_weeks: float


@dataclass(frozen=True)
class AgeBand:
    label: str
    open_cases: int


@dataclass(frozen=True)
class Timeliness:
    generated_at: datetime
    quarters: list[QuarterFigure]
    caseload: list[AgeBand]


def quarter_of(moment: datetime) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (the median is ``share`` 0.5), in weeks to one decimal."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return round(ordered[rank - 1], 1)


def _weeks(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / WEEK_SECONDS


async def figures() -> Timeliness:
    now = clock.now().astimezone(UTC)
    rows = await Case.select(
        Case.stage,
        Case.opened_at,
        Case.triage_decided_at,
        Case.examiners_decided_at,
        Case.final_decided_at,
        Case.outcome,
    ).where(Case.outcome != "linked")
    found: dict[tuple[str, str], list[float]] = {}
    caseload = [0] * (len(AGE_BANDS) + 1)
    for row in rows:
        opened: datetime = row["opened_at"]
        for measure, column, _ in MEASURES:
            decided = row[column]
            if decided is not None:
                found.setdefault((quarter_of(decided), measure), []).append(_weeks(opened, decided))
        if row["stage"] != Stage.closed.value:
            age = _weeks(opened, now)
            band = next(
                (i for i, (low, high, _) in enumerate(AGE_BANDS) if low <= age < high),
                len(AGE_BANDS),
            )
            caseload[band] += 1
    labels = {measure: label for measure, _, label in MEASURES}
    order = [measure for measure, _, _ in MEASURES]
    quarters = [
        QuarterFigure(
            quarter,
            measure,
            labels[measure],
            len(values),
            percentile(values, 0.5),
            percentile(values, 0.9),
        )
        for (quarter, measure), values in sorted(
            found.items(), key=lambda item: (item[0][0], order.index(item[0][1]))
        )
    ]
    bands = [label for _, _, label in AGE_BANDS] + [OLDEST_BAND]
    return Timeliness(now, quarters, [AgeBand(b, n) for b, n in zip(bands, caseload, strict=True)])


def as_csv(timeliness: Timeliness) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["quarter", "measure", "cases", "median_weeks", "p90_weeks"])
    for figure in timeliness.quarters:
        writer.writerow(
            [figure.quarter, figure.measure, figure.cases, figure.median_weeks, figure.p90_weeks]
        )
    writer.writerow([])
    writer.writerow(["open_caseload_age", "open_cases"])
    for band in timeliness.caseload:
        writer.writerow([band.label, band.open_cases])
    return out.getvalue()
