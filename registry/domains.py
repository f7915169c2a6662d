"""The service's domains, in order: the one list the application, the ``registry`` command, the
scheduler, ``registry demo`` and the register's hooks read.

To add a domain: write its package with a ``domain.py`` declaring its
:class:`~registry.core.domain.Domain`, and add it here. Order matters where one domain builds on
another: demo seeders run in this order, and navigation is sorted by each item's position.
"""

from __future__ import annotations

from registry.accounts.domain import DOMAIN as ACCOUNTS
from registry.audit.domain import DOMAIN as AUDIT
from registry.certificates.domain import DOMAIN as CERTIFICATES
from registry.conduct.domain import DOMAIN as CONDUCT
from registry.core.domain import Domain
from registry.cpd.domain import DOMAIN as CPD
from registry.employers.domain import DOMAIN as EMPLOYERS
from registry.notifications.domain import DOMAIN as NOTIFICATIONS
from registry.register.domain import DOMAIN as REGISTER
from registry.web.domain import DOMAIN as SERVICE

DOMAINS: tuple[Domain, ...] = (
    SERVICE,
    AUDIT,
    ACCOUNTS,
    NOTIFICATIONS,
    REGISTER,
    CERTIFICATES,
    CPD,
    CONDUCT,
    EMPLOYERS,
)
