"""The default limits of fitness to practise, in one place (the design's, from the sanctions
guidance of Social Work England and the NMC's interim orders): periods, durations, windows."""

from __future__ import annotations

RESPONSE_DAYS = 28  # the practitioner's window to respond to the notice of investigation
ACCEPTANCE_DAYS = 28  # to accept or reject an accepted outcome
APPEAL_DAYS = 28  # before a decision's sanction takes effect, unless the decision says at once
WARNING_YEARS = frozenset({1, 3, 5})
CONDITIONS_MAX_YEARS = 3
SUSPENSION_MAX_YEARS = 1
RESTORATION_AFTER_REMOVAL_YEARS = 5  # the register's applications enforce it
INTERIM_MAX_MONTHS = 18  # beyond it only with a court order, recorded
INTERIM_REVIEW_MONTHS = 6  # first review within, then every
HEARINGS_AHEAD_WEEKS = 8  # the public list of hearings
PANEL_SIZE = 3
EXAMINERS = 2  # a case examiners' decision is made jointly by two
MAX_TEXT = 10_000
