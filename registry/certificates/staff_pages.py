"""The registrar's side of certificates: an entry's certificates, reissuing one and revoking one.

Reached from the entry's page on the register (a registrar sees a link there) or by number from
``/registrar/certificates``. Reissuing and revoking each take a reason and a confirmation step:
the reason is what anyone checking the certificate is told, so it is shown back before it is
final. Each is audited and written to the entry's history by the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry.certificates import service
from registry.certificates.service import CertificateRecord
from registry.errors import Conflict, InvalidInput, NotFound
from registry.register import service as register
from registry.web.forms import FormErrors, read_form

AnyRequest = Request[Any, Any, Any]
SEE_OTHER: Literal[303] = 303
ACTIONS = {
    "revoke": ("Revoke", "revoking", "revoked"),
    "reissue": ("Reissue", "reissuing", "reissued"),
}
CERTIFICATE_CHANGES = {
    "certificate_issued": "Issued",
    "certificate_superseded": "Replaced",
    "certificate_revoked": "Revoked",
    "certificate_suspended": "Suspended",
    "certificate_suspension_ended": "Suspension ended",
}


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name, "")
    return value if isinstance(value, str) else ""


async def _entry(number: str) -> register.Entry:
    return await register.get_entry(await register.entry_id_for(number))


async def _certificate_of(entry: register.Entry, serial: str) -> CertificateRecord:
    record = await service.get(serial)
    if record.entry_id != entry.id:
        raise NotFound(f"{entry.registration_number} has no certificate {record.display_serial}")
    return record


def _action(action: str) -> tuple[str, str, str]:
    if action not in ACTIONS:
        raise NotFoundException("There is no such thing to do to a certificate.")
    return ACTIONS[action]


class RegistrarCertificatePages(Controller):
    path = "/registrar/certificates"
    include_in_schema = False

    @get("/", name="registrar_certificates")
    async def find(self, request: AnyRequest) -> Template | Redirect:
        number = request.query_params.get("number", "")
        errors = FormErrors()
        if number:
            with errors.catch(InvalidInput, NotFound, field="number"):
                entry = await _entry(number)
                return Redirect(
                    f"/registrar/certificates/{entry.registration_number}", status_code=SEE_OTHER
                )
        return Template(
            "certificates/registrar/find.html",
            context={"values": {"number": number[:40]}, **errors.context()},
            status_code=errors.status_code,
        )

    @get("/{number:str}", name="registrar_entry_certificates")
    async def entry_certificates(self, request: AnyRequest, number: FromPath[str]) -> Template:
        entry = await _entry(number)
        done = request.query_params.get("done", "")
        history = [
            item
            for item in reversed(await register.history(entry.id))
            if item.change in CERTIFICATE_CHANGES
        ]
        return Template(
            "certificates/registrar/entry.html",
            context={
                "entry": entry,
                "certificates": await service.certificates_of(entry.id),
                "history": history,
                "changes": CERTIFICATE_CHANGES,
                "done": done if done in ("revoked", "reissued") else "",
                "on_register": entry.public.status in service.ON_REGISTER,
            },
        )

    @get("/{number:str}/{serial:str}/{action:str}", name="registrar_certificate_action")
    async def action_page(
        self, number: FromPath[str], serial: FromPath[str], action: FromPath[str]
    ) -> Template:
        _action(action)
        entry = await _entry(number)
        record = await _certificate_of(entry, serial)
        return _action_page("reason", entry, record, action, {}, FormErrors())

    @post("/{number:str}/{serial:str}/{action:str}", name="registrar_certificate_action_submit")
    async def action_submit(
        self,
        request: AnyRequest,
        number: FromPath[str],
        serial: FromPath[str],
        action: FromPath[str],
    ) -> Template | Redirect:
        _, _, done = _action(action)
        entry = await _entry(number)
        record = await _certificate_of(entry, serial)
        values = await read_form(request)
        errors = FormErrors()
        with errors.catch(InvalidInput, Conflict, field="reason"):
            reason = service.staff_reason(_text(values, "reason"), ACTIONS[action][1])
            if _text(values, "step") != "confirm":
                return _action_page("confirm", entry, record, action, {"reason": reason}, errors)
            if action == "revoke":
                await service.revoke(record.serial, reason=reason)
            else:
                await service.reissue(record.serial, reason=reason)
            return Redirect(
                f"/registrar/certificates/{entry.registration_number}?done={done}",
                status_code=SEE_OTHER,
            )
        return _action_page("reason", entry, record, action, values, errors)


def _action_page(
    step: str,
    entry: register.Entry,
    record: CertificateRecord,
    action: str,
    values: Mapping[str, Any],
    errors: FormErrors,
) -> Template:
    verb, doing, _ = ACTIONS[action]
    return Template(
        f"certificates/registrar/{step}.html",
        context={
            "entry": entry,
            "certificate": record,
            "action": action,
            "verb": verb,
            "doing": doing,
            "values": {key: value for key, value in values.items() if isinstance(value, str)},
            "action_href": f"/registrar/certificates/{entry.registration_number}/"
            f"{record.display_serial}/{action}",
            **errors.context(),
        },
        status_code=errors.status_code,
    )
