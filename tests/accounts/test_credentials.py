"""API, session and reset tokens, and recovery codes."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from registry.accounts.credentials import (
    API_TOKEN_PATTERN,
    RECOVERY_CODE_ALPHABET,
    IssuedSecret,
    hash_recovery_code,
    hash_token,
    looks_like_api_token,
    looks_like_recovery_code,
    new_api_token,
    new_recovery_codes,
    new_reset_token,
    new_session_token,
    normalise_recovery_code,
    recovery_code_matches,
    token_matches,
)

SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def test_api_tokens_are_prefixed_unique_and_stored_only_as_a_hash() -> None:
    issued = [new_api_token() for _ in range(50)]

    assert len({t.token for t in issued}) == 50
    for token in issued:
        assert token.token.startswith("prr_")
        assert len(token.token) >= 4 + 43  # 32 random bytes
        assert token.prefix == token.token[: len(token.prefix)]
        assert 8 <= len(token.prefix) <= 16  # fits ApiToken.token_prefix
        assert SHA256_HEX.fullmatch(token.hash)
        assert token.hash == hash_token(token.token)


def test_a_token_matches_its_own_hash_and_no_other() -> None:
    first, second = new_api_token(), new_api_token()

    assert token_matches(first.token, first.hash)
    assert not token_matches(second.token, first.hash)
    assert not token_matches(first.token + "x", first.hash)


def test_the_secret_never_appears_in_a_repr() -> None:
    api, session = new_api_token(), new_session_token()

    assert api.token not in repr(api)
    assert session.token not in repr(session)


def test_api_tokens_are_recognisable_and_other_strings_are_not() -> None:
    token = new_api_token().token

    assert looks_like_api_token(token)
    assert API_TOKEN_PATTERN.search(f"leaked in a log: Authorization: Bearer {token}")
    assert not looks_like_api_token(token[:-1])
    assert not looks_like_api_token(token + "A")
    assert not looks_like_api_token("prx_" + token[4:])
    assert not looks_like_api_token(new_session_token().token)
    assert not looks_like_api_token("")


@pytest.mark.parametrize("issue", [new_session_token, new_reset_token])
def test_session_and_reset_tokens_are_random_url_safe_and_hashed(
    issue: Callable[[], IssuedSecret],
) -> None:
    issued = [issue() for _ in range(50)]

    assert len({s.token for s in issued}) == 50
    for secret in issued:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", secret.token)
        assert secret.hash == hash_token(secret.token)
        assert token_matches(secret.token, secret.hash)


def test_recovery_codes_are_distinct_readable_and_unambiguous() -> None:
    codes = new_recovery_codes()

    assert len(codes) == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{2}", code)
        assert set(code.replace("-", "")) <= set(RECOVERY_CODE_ALPHABET)
        assert not set(code) & set("01ilo")
    assert len(new_recovery_codes(3)) == 3


def test_recovery_codes_match_however_they_are_typed() -> None:
    code = new_recovery_codes(1)[0]
    stored = hash_recovery_code(code)
    typed = f"  {code.upper().replace('-', ' ')} "

    assert normalise_recovery_code(typed) == code.replace("-", "")
    assert recovery_code_matches(typed, stored)
    assert recovery_code_matches(code.replace("-", ""), stored)
    assert SHA256_HEX.fullmatch(stored)


def test_a_different_recovery_code_does_not_match() -> None:
    first, second = new_recovery_codes(2)

    assert not recovery_code_matches(second, hash_recovery_code(first))


def test_recovery_codes_can_be_told_from_totp_codes() -> None:
    assert looks_like_recovery_code("ABCD EFGH JK")
    assert looks_like_recovery_code("abcd-efgh-jk")
    assert not looks_like_recovery_code("123 456")
    assert not looks_like_recovery_code("abcd-efgh-j0")  # 0 is not in the alphabet
    assert not looks_like_recovery_code("abcd-efgh-jkm")
