"""Secrets sealed at rest with a key derived from REGISTRY_SECRET_KEY."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from registry.core.secretbox import SecretBoxError, open_sealed, seal

KEY = "k" * 48
OTHER_KEY = "o" * 48
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_a_sealed_secret_opens_with_the_same_key() -> None:
    sealed = seal(KEY, SECRET)

    assert SECRET not in sealed
    assert open_sealed(KEY, sealed) == SECRET
    assert open_sealed(KEY, seal(KEY, "naïve ✓")) == "naïve ✓"


def test_sealing_twice_gives_different_text() -> None:
    assert seal(KEY, SECRET) != seal(KEY, SECRET)


def test_a_different_secret_key_cannot_open_it() -> None:
    sealed = seal(KEY, SECRET)

    with pytest.raises(SecretBoxError, match="REGISTRY_SECRET_KEY has changed"):
        open_sealed(OTHER_KEY, sealed)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s[:-2] + ("AA" if not s.endswith("AA") else "BB"),
        lambda s: s[:20] + ("x" if s[20] != "x" else "y") + s[21:],
        lambda s: "not a sealed value",
        lambda s: "",
        lambda s: "sealed ✓",
    ],
)
def test_an_altered_value_is_refused(tamper: Callable[[str], str]) -> None:
    with pytest.raises(SecretBoxError):
        open_sealed(KEY, tamper(seal(KEY, SECRET)))


def test_an_empty_secret_key_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="secret_key"):
        seal("", SECRET)
