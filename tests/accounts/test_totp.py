"""TOTP second factor: enrolment QR code, codes within the window, replay refused."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest

from registry.accounts.totp import (
    new_totp_secret,
    provisioning_uri,
    qr_code_svg_data_uri,
    time_step,
    verify_totp,
)

NOW = datetime(2025, 3, 14, 9, 26, 45, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def code_at(moment: datetime, secret: str = SECRET) -> str:
    """What the person's authenticator app shows at ``moment``."""
    return pyotp.TOTP(secret).at(moment)


def test_new_secrets_are_160_bit_base32_and_unique() -> None:
    secrets = {new_totp_secret() for _ in range(20)}

    assert len(secrets) == 20
    for secret in secrets:
        assert re.fullmatch(r"[A-Z2-7]{32}", secret)
        assert len(base64.b32decode(secret)) == 20


def test_the_code_for_now_verifies_and_returns_its_step() -> None:
    assert verify_totp(SECRET, code_at(NOW), at=NOW) == time_step(NOW)


def test_a_code_typed_with_spaces_is_accepted() -> None:
    code = code_at(NOW)

    assert verify_totp(SECRET, f" {code[:3]} {code[3:]} ", at=NOW) == time_step(NOW)


def test_codes_one_step_either_side_are_accepted_for_clock_drift() -> None:
    step = time_step(NOW)

    assert verify_totp(SECRET, code_at(NOW - timedelta(seconds=30)), at=NOW) == step - 1
    assert verify_totp(SECRET, code_at(NOW + timedelta(seconds=30)), at=NOW) == step + 1


def test_a_code_from_five_minutes_ago_is_refused() -> None:
    assert verify_totp(SECRET, code_at(NOW - timedelta(minutes=5)), at=NOW) is None


def test_a_wrong_code_or_another_secret_is_refused() -> None:
    code = code_at(NOW)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    assert verify_totp(SECRET, wrong, at=NOW) is None
    assert verify_totp(new_totp_secret(), code, at=NOW) is None


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_something_that_is_not_six_digits_is_refused(typed: str) -> None:
    assert verify_totp(SECRET, typed, at=NOW) is None


def test_a_used_code_cannot_be_used_again() -> None:
    code = code_at(NOW)
    step = verify_totp(SECRET, code, at=NOW)
    assert step is not None

    assert verify_totp(SECRET, code, at=NOW, last_used_step=step) is None
    assert verify_totp(SECRET, code, at=NOW + timedelta(seconds=20), last_used_step=step) is None


def test_an_older_code_is_refused_once_a_newer_one_was_used() -> None:
    earlier = code_at(NOW - timedelta(seconds=30))

    assert verify_totp(SECRET, earlier, at=NOW, last_used_step=time_step(NOW)) is None


def test_the_next_code_is_accepted_after_one_was_used() -> None:
    used = time_step(NOW)
    later = NOW + timedelta(seconds=30)

    assert verify_totp(SECRET, code_at(later), at=later, last_used_step=used) == used + 1


def test_the_clock_defaults_to_now() -> None:
    assert verify_totp(SECRET, pyotp.TOTP(SECRET).now()) is not None


def test_a_naive_time_is_refused_rather_than_read_as_local_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_totp(SECRET, "123456", at=datetime(2025, 3, 14, 9, 26, 45))


def test_the_provisioning_uri_names_the_service_and_the_person() -> None:
    uri = provisioning_uri(SECRET, "sam.jones@example.org")
    parts = urlsplit(uri)
    query = parse_qs(parts.query)

    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    assert unquote(parts.path) == "/Probation Practitioner Register:sam.jones@example.org"
    assert query["secret"] == [SECRET]
    assert query["issuer"] == ["Probation Practitioner Register"]
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.at(NOW) == code_at(NOW)


def test_the_qr_code_is_an_svg_data_uri_for_an_img_tag() -> None:
    data_uri = qr_code_svg_data_uri(provisioning_uri(SECRET, "sam.jones@example.org"))
    prefix = "data:image/svg+xml;base64,"

    assert data_uri.startswith(prefix)
    svg = base64.b64decode(data_uri.removeprefix(prefix), validate=True).decode("utf-8")
    assert "<svg" in svg
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert "<path" in svg
    assert "<script" not in svg
