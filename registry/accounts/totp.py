"""Time-based one-time passwords (RFC 6238), the second factor regulator staff must use.

Codes are the authenticator-app default: 6 digits, SHA-1, 30-second steps. A code is accepted one
step either side of now, for clocks that drift and people who type slowly. The caller stores the
step :func:`verify_totp` returns and passes it back as ``last_used_step``, so a code seen over
someone's shoulder cannot be used again.
"""

from __future__ import annotations

import base64
import hmac
import io
from datetime import UTC, datetime

import pyotp
import qrcode
import qrcode.image.svg

DEFAULT_ISSUER = "Probation Practitioner Register"
DIGITS = 6
STEP_SECONDS = 30
VALID_WINDOW = 1  # steps either side of now
_SECRET_LENGTH = 32  # base32 characters: 160 bits, the size RFC 4226 recommends


def new_totp_secret() -> str:
    """A new base32 shared secret (160 bits)."""
    return pyotp.random_base32(length=_SECRET_LENGTH)


def provisioning_uri(secret: str, email: str, issuer: str = DEFAULT_ISSUER) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=issuer
    )


def qr_code_svg_data_uri(uri: str) -> str:
    """A QR code for ``uri`` as a ``data:image/svg+xml`` URI, for an ``<img src>``.

    A data URI needs no extra route and works under a CSP of ``img-src 'self' data:``; as an
    image (not inline SVG) it can run no script. The white fill keeps it scannable in dark mode.
    """
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathFillImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def time_step(at: datetime) -> int:
    """The RFC 6238 time step that contains ``at``."""
    if at.tzinfo is None:
        # A naive time would be read as local time and shift every step by the UTC offset.
        raise ValueError("at must be timezone-aware")
    return int(at.timestamp()) // STEP_SECONDS


def normalise_code(code: str) -> str:
    """The code as typed without spaces, so ``123 456`` (as apps show it) is accepted."""
    return "".join(code.split())


def looks_like_code(code: str) -> bool:
    """Six digits (spaces aside): what an authenticator app shows, right or wrong."""
    code = normalise_code(code)
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def verify_totp(
    secret: str,
    code: str,
    *,
    at: datetime | None = None,
    last_used_step: int | None = None,
) -> int | None:
    """The time step ``code`` belongs to, or None when it is wrong, stale or already used.

    ``at`` is the moment of checking (now when omitted). A step at or before ``last_used_step``
    is refused, which also refuses an older code once a newer one has been used.
    """
    if not looks_like_code(code):
        return None
    code = normalise_code(code)
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now_step = time_step(at if at is not None else datetime.now(UTC))
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
