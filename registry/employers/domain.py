"""Employers: organisations, their API keys, and bulk checks of registration numbers."""

from __future__ import annotations

from pathlib import Path

from registry.accounts.access import PUBLIC, REGISTRAR, Rule
from registry.accounts.roles import Role
from registry.core.domain import Domain, NavItem, holding
from registry.employers import keys
from registry.employers.api import (
    OrganisationsController,
    VerificationController,
    YourOrganisationController,
)
from registry.employers.demo import seed_demo_employers
from registry.employers.pages import (
    CheckPages,
    OrganisationPages,
    OrganisationRequestPages,
    RegistrarOrganisationPages,
)
from registry.employers.subject_access import SUBJECT_ACCESS
from registry.employers.tables import EMPLOYER_TABLES, KeyScope
from registry.employers.watch_api import WatchlistController, WebhookController
from registry.employers.watch_digest import JOBS as WATCH_JOBS
from registry.employers.watch_pages import WatchlistPages
from registry.employers.webhooks import entries_changed as watchlist_entries_changed
from registry.employers.webhooks import entry_changed as watchlist_entry_changed

EMPLOYER = Rule(roles=frozenset({Role.employer}))
# A member with their personal token, or an organisation's key with the verify scope.
VERIFY = Rule(roles=frozenset({Role.employer}), scope=KeyScope.verify.value)
# A member with their personal token or session, or a key with the watchlist scope.
WATCH = Rule(roles=frozenset({Role.employer}), scope=KeyScope.watchlist.value)

DOMAIN = Domain(
    name="employers",
    api=[
        VerificationController,
        YourOrganisationController,
        OrganisationsController,
        WatchlistController,
        WebhookController,
    ],
    pages=[
        OrganisationRequestPages,
        OrganisationPages,
        CheckPages,
        RegistrarOrganisationPages,
        WatchlistPages,
    ],
    access={
        # asking for an organisation: anyone
        "employer_request_form": PUBLIC,
        "employer_request_create": PUBLIC,
        "employer_request_sent": PUBLIC,
        # the organisation's own page and checks (the service finds the member's organisation;
        # an employer in none is told so, 404; administrators only manage members and keys)
        "organisation_page": EMPLOYER,
        "organisation_member_invite": EMPLOYER,
        "organisation_key_create": EMPLOYER,
        "organisation_key_revoke": EMPLOYER,
        "organisation_checks": EMPLOYER,
        "organisation_check_run": EMPLOYER,
        "api_organisation": EMPLOYER,
        "api_organisation_member_invite": EMPLOYER,
        "api_organisation_keys": EMPLOYER,
        "api_organisation_key_create": EMPLOYER,
        "api_organisation_key_revoke": EMPLOYER,
        "api_organisation_checks": EMPLOYER,
        # bulk checks through the API
        "api_verifications": VERIFY,
        "api_verifications_csv": VERIFY,
        # the watchlist and its webhooks (the organisation is always the caller's own)
        "api_watchlist": WATCH,
        "api_watchlist_add": WATCH,
        "api_watchlist_replace": WATCH,
        "api_watchlist_replace_csv": WATCH,
        "api_watchlist_remove": WATCH,
        "api_webhooks": WATCH,
        "api_webhook_create": WATCH,
        "api_webhook_remove": WATCH,
        "api_webhook_deliveries": WATCH,
        "api_webhook_test": WATCH,
        "watchlist_page": EMPLOYER,
        "watchlist_add": EMPLOYER,
        "watchlist_remove": EMPLOYER,
        "watchlist_replace": EMPLOYER,
        "webhook_create": EMPLOYER,
        "webhook_remove": EMPLOYER,
        "webhook_test": EMPLOYER,
        "webhook_deliveries": EMPLOYER,
        # registrars decide requests and make organisations
        "registrar_employers": REGISTRAR,
        "registrar_employer_new": REGISTRAR,
        "registrar_employer_create": REGISTRAR,
        "registrar_employer": REGISTRAR,
        "registrar_employer_approve": REGISTRAR,
        "registrar_employer_refuse": REGISTRAR,
        "api_employer_organisations": REGISTRAR,
        "api_employer_organisation_create": REGISTRAR,
        "api_employer_organisation": REGISTRAR,
        "api_employer_organisation_approve": REGISTRAR,
        "api_employer_organisation_refuse": REGISTRAR,
    },
    navigation=[
        NavItem("/organisation", "Your organisation", holding("employer"), position=34),
        NavItem("/organisation/watchlist", "Watchlist", holding("employer"), position=35),
        NavItem("/registrar/employers", "Employers", holding("registrar"), position=43),
    ],
    tables=EMPLOYER_TABLES,
    email_templates=Path(__file__).resolve().parent / "templates" / "email",
    bearer_credentials={keys.KEY_PREFIX: keys.resolve},
    demo_seeders=[seed_demo_employers],
    subject_access=[SUBJECT_ACCESS],
    change_subscribers=[watchlist_entry_changed],
    batch_change_subscribers=[watchlist_entries_changed],
    jobs=WATCH_JOBS,
)
