"""Password hashing and the policy a person meets when choosing a password."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from registry.accounts import passwords
from registry.accounts.passwords import (
    PasswordCheck,
    common_passwords,
    dummy_verify,
    hash_password,
    password_problems,
    verify_password,
)

GOOD = "correct horse battery staple"
EMAIL = "Sam.Jones@example.org"


def test_the_right_password_verifies_and_a_wrong_one_does_not() -> None:
    stored = hash_password(GOOD)

    assert verify_password(stored, GOOD) == PasswordCheck(matched=True, needs_rehash=False)
    assert verify_password(stored, GOOD.upper()).matched is False
    assert verify_password(stored, "").matched is False


def test_hashes_are_argon2id_and_salted() -> None:
    first, second = hash_password(GOOD), hash_password(GOOD)

    assert first.startswith("$argon2id$")
    assert first != second
    assert GOOD not in first


def test_a_hash_made_with_weaker_parameters_is_flagged_for_rehash() -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    stored = weaker.hash(GOOD)

    check = verify_password(stored, GOOD)

    assert check.matched is True
    assert check.needs_rehash is True
    assert verify_password(hash_password(GOOD), GOOD).needs_rehash is False


def test_a_wrong_password_against_a_weak_hash_asks_for_no_rehash() -> None:
    stored = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(GOOD)

    assert verify_password(stored, "not it at all") == PasswordCheck(matched=False)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=65536,t=3,p=4$garbage",
        "$2b$12$abcdefghijklmnopqrstuuJ1lq9fMwR0GxGkGm5tDZ0m1W3pZfu8e",  # bcrypt
    ],
)
def test_a_missing_or_malformed_stored_hash_is_a_mismatch_not_an_error(stored: str) -> None:
    assert verify_password(stored, GOOD) == PasswordCheck(matched=False)


def test_unicode_passwords_match_however_they_were_composed() -> None:
    composed, decomposed = "caf\u00e9 au lait please", "cafe\u0301 au lait please"
    stored = hash_password(composed)

    assert verify_password(stored, decomposed).matched is True


def test_dummy_verify_runs_a_real_check_against_a_fixed_hash() -> None:
    dummy_verify(GOOD)
    dummy_verify("")

    fixed = passwords._dummy_hash()
    assert fixed.startswith("$argon2id$")
    assert fixed == passwords._dummy_hash()  # made once, same parameters as real hashes
    assert not PasswordHasher().check_needs_rehash(fixed)


def test_a_good_password_has_no_problems() -> None:
    assert password_problems(GOOD, EMAIL) == []
    assert password_problems("x" * passwords.MAX_LENGTH, EMAIL) == []


def test_an_empty_password_is_asked_for() -> None:
    assert password_problems("", EMAIL) == ["Enter a password"]


def test_a_short_password_is_refused_with_the_minimum() -> None:
    assert password_problems("tK9#vq2!", EMAIL) == ["Password must be 10 characters or more"]


@pytest.mark.parametrize("password", ["password1234", "PASSWORD1234", "qwertyuiop", "1234567890"])
def test_a_common_password_is_refused_whatever_its_case(password: str) -> None:
    assert password_problems(password, EMAIL) == [
        "Password is too common: choose one that is harder to guess"
    ]


def test_a_short_common_password_gets_both_messages() -> None:
    assert password_problems("password1", EMAIL) == [
        "Password must be 10 characters or more",
        "Password is too common: choose one that is harder to guess",
    ]


@pytest.mark.parametrize("password", ["sam.jones-rocks-2024", "I am SAM.JONES really"])
def test_a_password_containing_the_email_local_part_is_refused(password: str) -> None:
    assert password_problems(password, EMAIL) == ["Password must not contain your email address"]


def test_a_very_short_local_part_is_not_held_against_the_password() -> None:
    assert password_problems("jolly green giant", "jo@example.org") == []
    assert password_problems("the joy of sam.jones", "") == []


def test_a_password_that_is_too_long_is_refused_with_the_limit() -> None:
    assert password_problems("x" * 1025, EMAIL) == ["Password must be 1,024 characters or fewer"]


def test_the_common_password_list_is_large_lower_cased_and_loaded_once() -> None:
    listed = common_passwords()

    assert len(listed) >= 10_000
    assert {"password1", "123456", "qwerty", "iloveyou"} <= listed
    assert all(entry == entry.lower() and entry == entry.strip() for entry in listed)
    assert common_passwords() is listed


def test_the_shipped_file_has_no_repeats() -> None:
    from importlib import resources

    lines = (
        resources.files("registry.accounts")
        .joinpath(passwords.COMMON_PASSWORDS_RESOURCE)
        .read_text("utf-8")
        .splitlines()
    )

    assert len(lines) == len(set(lines)) == len(common_passwords())
