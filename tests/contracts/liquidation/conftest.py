"""Fixtures of the liquidation tests; the helpers and the model live in liquidation_helpers.py."""

from __future__ import annotations

import pytest
from liquidation_helpers import LIQUIDITY, season

# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def market(protocol, supplier, liquidator):
    """The shared deployment with deep liquidity on every reserve and a funded liquidator."""
    p = protocol
    for symbol, amount in LIQUIDITY.items():
        p.supply(supplier, symbol, p.units(symbol, amount))
        p.mint_and_approve(liquidator, symbol, p.units(symbol, amount))
    return p


@pytest.fixture
def seasoned(market, carol):
    """`market` after interest ran on every reserve and stopped (see `season`). Function-scoped:
    it runs inside the test's snapshot (Anvil restores the clock on revert), so `market` tests in
    the same module still see a fresh pool. Modules whose tests all want it use a module-scoped
    fixture of another name instead (brownie places `fn_isolation` by the scope of a fixture's
    first definition, so overriding a function-scoped fixture with a module-scoped one would
    take the test snapshot before the module's deployment)."""
    return season(market, carol)
