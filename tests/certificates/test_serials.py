"""Certificate serials: unguessable, readable, and a mistyped one is malformed, not unknown."""

from __future__ import annotations

import pytest

from registry.certificates import serials
from registry.errors import InvalidInput


def test_a_serial_is_128_random_bits_and_a_check_character() -> None:
    made = {serials.new_serial() for _ in range(200)}
    assert len(made) == 200
    for serial in made:
        assert len(serial) == 27
        assert set(serial[:26]) <= set(serials.ALPHABET)
        assert serials.parse_serial(serial) == serial


def test_the_check_symbol_is_crockfords_mod_37() -> None:
    # 37 * k has check symbol 0; 32..36 use the five extra check symbols.
    assert serials.encode(37 * 1000).endswith("0")
    assert [serials.check_symbol(n) for n in range(32, 37)] == ["*", "~", "$", "=", "U"]
    assert serials.encode(2**128 - 1)[:2] == "7Z"


def test_reading_forgives_case_separators_and_look_alike_letters() -> None:
    serial = serials.encode(0x0123456789ABCDEF0123456789ABCDEF)
    shown = serials.display(serial)
    assert "-" in shown
    assert serials.parse_serial(shown.lower()) == serial
    assert serials.parse_serial(" ".join(shown.split("-"))) == serial
    with_look_alikes = serial.replace("1", "l").replace("0", "O")
    assert serials.parse_serial(with_look_alikes) == serial


@pytest.mark.parametrize(
    ("mangle", "says"),
    [
        (lambda s: s[:-2], "has 27 letters and digits"),
        (lambda s: s + "7", "has 27 letters and digits"),
        (lambda s: "U" + s[1:], "characters a serial never has (U)"),
        (lambda s: s[:5] + "!" + s[6:], "characters a serial never has (!)"),
    ],
)
def test_wrong_length_or_alphabet_is_malformed(mangle: object, says: str) -> None:
    serial = serials.new_serial()
    with pytest.raises(InvalidInput) as refused:
        serials.parse_serial(mangle(serial))  # type: ignore[operator]
    assert says in str(refused.value)
    assert refused.value.field == "serial"


def test_every_single_mistyped_character_is_caught() -> None:
    serial = serials.encode(0xFEDCBA9876543210FEDCBA9876543210)
    for position in range(1, 26):
        for replacement in serials.ALPHABET:
            if replacement == serial[position]:
                continue
            typo = serial[:position] + replacement + serial[position + 1 :]
            with pytest.raises(InvalidInput, match="last character does not match"):
                serials.parse_serial(typo)
