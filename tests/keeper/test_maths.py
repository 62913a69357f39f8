"""The keeper's own maths (keeper/maths.py) equals the protocol reference the contract tests hold
the pool to (tests/reference/protocol_math.py), at random valid inputs and at the edges."""

from __future__ import annotations

import random

import pytest

from keeper import maths
from tests.reference import protocol_math as reference

RNG = random.Random(13)
AMOUNTS = [0, 1, 10**6 - 1, 10**6, 2**128, 2**255] + [
    RNG.getrandbits(RNG.randint(1, 200)) for _ in range(200)
]


@pytest.mark.parametrize("name", ["WAD", "RAY", "BPS", "VIRTUAL_SHARES", "MAX_UINT256"])
def test_the_units_are_the_references(name):
    assert getattr(maths, name) == getattr(reference, name)


def test_values_and_shares_to_assets_round_as_the_reference():
    for amount in AMOUNTS:
        decimals, price = RNG.choice([6, 8, 18]), RNG.randint(1, 10**14)
        assert maths.to_value(amount, decimals, price) == reference.to_value(amount, decimals, price)
        total_assets, total_shares = RNG.getrandbits(120), RNG.getrandbits(120)
        assert maths.to_assets_down(amount, total_assets, total_shares) == reference.to_assets_down(
            amount, total_assets, total_shares
        )


def test_health_factors_equal_the_reference_with_and_without_debt():
    for weighted in AMOUNTS:
        debt = RNG.choice([0, 1, RNG.getrandbits(RNG.randint(1, 250))])
        assert maths.health_factor(weighted, debt) == reference.health_factor(weighted, debt)
    assert maths.health_factor(1, 0) == maths.MAX_UINT256


def test_collateral_for_debt_rounds_down_as_the_reference():
    for shares in AMOUNTS:
        args = (
            shares,
            RNG.randint(10**27, 3 * 10**27),
            RNG.randint(1, 10**13),
            RNG.choice([6, 8, 18]),
            RNG.randint(1, 10**13),
            RNG.choice([6, 8, 18]),
            RNG.randint(10_000, 11_500),
        )
        assert maths.collateral_for_debt(*args) == reference.collateral_for_debt(*args)
