"""A practitioner on the register, the staff who handle concerns about them, and cases brought
to any stage through the workflow's own moves."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from registry.accounts import users
from registry.accounts.roles import Role
from registry.conduct import concerns, service, workflow
from registry.conduct.sanctions import Terms
from registry.conduct.tables import CaseDocument, SanctionKind, Stage
from registry.conduct.workflow import Hearing, Move, MoveIn, Mover
from registry.core import clock
from registry.register import evidence
from registry.register import service as register
from tests.register.helpers import put_on_register

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# A Monday in registration year 2027.
TODAY = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class People:
    caseworker: Mover
    examiner: Mover
    second_examiner: Mover
    adjudicator: Mover
    practitioner: Mover
    entry: register.Entry


async def staff(role: Role, email: str) -> Mover:
    # Invited (no password): no argon2 in tests that do not test passwords.
    account = await users.create_user(email, f"Test {role.value}", [role])
    return Mover(account.id, frozenset({role}))


async def people(email: str = "pat@example.org", *, account_id: int | None = None) -> People:
    """The practitioner (a new account, or ``account_id``'s) and the staff of their cases."""
    if account_id is None:
        account_id = (await users.create_user(email, "Pat Smith", [Role.practitioner])).id
    entry = await put_on_register("Pat", "Smith", account_id=account_id)
    return People(
        caseworker=await staff(Role.caseworker, "cw@example.org"),
        examiner=await staff(Role.case_examiner, "ce1@example.org"),
        second_examiner=await staff(Role.case_examiner, "ce2@example.org"),
        adjudicator=await staff(Role.adjudicator, "adj@example.org"),
        practitioner=Mover(account_id, frozenset({Role.practitioner})),
        entry=entry,
    )


async def someone_else(who: People, email: str) -> People:
    """Another practitioner, handled by the same staff: concerns about one practitioner join
    their open case, so a second case needs a second practitioner."""
    account = await users.create_user(email, "Sam Jones", [Role.practitioner])
    entry = await put_on_register("Sam", "Jones", account_id=account.id)
    return replace(who, practitioner=Mover(account.id, frozenset({Role.practitioner})), entry=entry)


def concern_about(number: str, **changes: object) -> concerns.ConcernIn:
    values: dict[str, object] = {
        "what_happened": "They shared a client's address with a stranger.",
        "relationship": "public",
        "categories": ["professional_boundaries"],
        "about_number": number,
        "raiser_name": "Rae Iser",
        "raiser_email": "rae@example.org",
        "consent_to_share": False,
        **changes,
    }
    return concerns.ConcernIn(**values)  # type: ignore[arg-type]


# The terms each decision imposes in these tests.
TERMS: dict[Move, Terms] = {
    Move.give_advice: Terms(SanctionKind.advice, summary="Advice on boundaries"),
    Move.give_warning: Terms(SanctionKind.warning, 12, summary="Warning for one year"),
    Move.propose_accepted_outcome: Terms(
        SanctionKind.conditions, 6, "Work under supervision", "Conditions for six months"
    ),
    Move.impaired: Terms(SanctionKind.suspension, 6, summary="Suspended for six months"),
    Move.review_extend: Terms(
        SanctionKind.conditions, 12, "Work under supervision", "Conditions extended"
    ),
    Move.review_vary: Terms(
        SanctionKind.conditions, 6, "Work under weekly supervision", "Conditions varied"
    ),
}


def mover_for(move: Move, who: People) -> Mover:
    roles = workflow.MOVES[move].roles
    if Role.practitioner in roles:
        return who.practitioner
    if Role.case_examiner in roles:
        return who.examiner
    if Role.adjudicator in roles:
        return who.adjudicator
    return who.caseworker


def data_for(move: Move, who: People) -> MoveIn:
    needs = workflow.MOVES[move].needs
    return MoveIn(
        reason="For the reasons given" if workflow.Need.reason in needs else "",
        examiners=(
            (who.examiner.user_id or 0, who.second_examiner.user_id or 0)
            if workflow.Need.examiners in needs
            else ()
        ),
        terms=TERMS.get(move) if workflow.Need.terms in needs else None,
        hearing=(
            Hearing(clock.now().date(), ("A Chair", "B Member", "C Member"), "Hearing centre")
            if workflow.Need.hearing in needs
            else None
        ),
    )


async def move(case_id: int, which: Move, who: People) -> workflow.CaseRecord:
    case = await workflow.get_case(case_id)
    return await workflow.perform(
        case_id, which, by=mover_for(which, who), version=case.version, data=data_for(which, who)
    )


async def respond(case_id: int, who: People) -> None:
    assert who.practitioner.user_id is not None
    await service.respond(who.practitioner.user_id, case_id, "I did not do it.", [])


# How a case reaches each stage from a new concern, through the machine's own moves.
PATHS: dict[Stage, list[Move | str]] = {
    Stage.received: [],
    Stage.triage: [Move.start_triage],
    Stage.investigation: [Move.start_triage, Move.open_investigation],
    Stage.case_examiners: [
        Move.start_triage,
        Move.open_investigation,
        "respond",
        Move.refer_to_case_examiners,
    ],
}
PATHS[Stage.accepted_outcome] = [*PATHS[Stage.case_examiners], Move.propose_accepted_outcome]
PATHS[Stage.hearing] = [*PATHS[Stage.case_examiners], Move.refer_to_hearing, Move.schedule_hearing]
PATHS[Stage.decided] = [*PATHS[Stage.hearing], Move.impaired]
PATHS[Stage.sanction_in_force] = [*PATHS[Stage.accepted_outcome], Move.accept_outcome]
PATHS[Stage.review] = [*PATHS[Stage.sanction_in_force], Move.begin_review]
PATHS[Stage.closed] = [Move.start_triage, Move.close_no_further_action]


async def new_case(who: People, **changes: object) -> int:
    raised = await concerns.raise_concern(concern_about(who.entry.registration_number, **changes))
    return raised.case_id


async def case_at(stage: Stage, who: People, *, then: list[Move] | None = None) -> int:
    case_id = await new_case(who)
    for step in [*PATHS[stage], *(then or [])]:
        if step == "respond":
            await respond(case_id, who)
        else:
            assert isinstance(step, Move)
            await move(case_id, step, who)
    return case_id


def days(n: int) -> timedelta:
    return timedelta(days=n)


async def attach_document(
    data_dir: Path, case_id: int, name: str = "letter.pdf", *, disclosed: bool = False
) -> int:
    """A file on the case as a concern's attachment comes: kept (its bytes differ by name), not
    disclosed unless ``disclosed``; its document id."""
    added: list[int] = []

    async def on_case(stored: evidence.StoredFile) -> None:
        [row] = await CaseDocument.insert(
            CaseDocument(
                case=case_id,
                file=stored.id,
                kind="attachment",
                disclosed=disclosed,
                added_at=clock.now(),
            )
        ).returning(CaseDocument.id)
        added.append(row["id"])

    checked = evidence.check_upload(name, PDF + name.encode())
    await evidence.store(data_dir, checked, uploaded_by=None, then=on_case)
    return added[0]
