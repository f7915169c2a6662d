"""Where the register's pages are, for services that link to them (emails, registrars' views).

A path a service puts in an email outlives the page that sent it, so each one is built here
and nowhere else: moving a page means changing it here and in its controller.
"""

from __future__ import annotations

# A practitioner's own entry: renewal reminders, and the approved applicant's welcome.
YOUR_REGISTRATION = "/your-registration"

# --- applications -------------------------------------------------------------------------

YOUR_APPLICATION = "/your-application"  # where an applicant follows theirs
APPLY = "/apply"  # where someone with no application starts one
APPLY_FOR_RESTORATION = "/apply/restoration"  # where a practitioner who left asks to come back
REGISTRAR_APPLICATIONS = "/registrar/applications"


def registrar_application(application_id: int) -> str:
    return f"{REGISTRAR_APPLICATIONS}/{application_id}"


def public_entry(registration_number: str) -> str:
    return f"/register/{registration_number}"
