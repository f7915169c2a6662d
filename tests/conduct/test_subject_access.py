"""A subject access export holds the cases about the person as they may see them (not who raised
a concern without consent) and the concerns they raised themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registry.conduct.subject_access import export
from registry.conduct.tables import Stage
from registry.core.subject_access import EMAIL, PersonKeys
from registry.register.subject_access import PRACTITIONER
from tests.conduct.helpers import case_at, people


async def test_the_practitioner_and_the_raiser_each_get_their_own_part(
    engine: Any, tmp_path: Path
) -> None:
    who = await people()
    await case_at(Stage.investigation, who)
    practitioner = PersonKeys({PRACTITIONER: frozenset({str(who.entry.practitioner_id)})})
    part = (await export(practitioner, tmp_path)).data
    [case] = part["cases_about_them"]
    assert case["stage"] == "investigation"
    [concern] = case["concerns"]
    assert concern["raiser_name"] is None
    assert concern["what_happened"]
    assert part["concerns_raised"] == []
    raiser = PersonKeys({EMAIL: frozenset({"rae@example.org"})})
    raised = (await export(raiser, tmp_path)).data
    assert raised["cases_about_them"] == []
    [mine] = raised["concerns_raised"]
    assert mine["raiser_name"] == "Rae Iser"
