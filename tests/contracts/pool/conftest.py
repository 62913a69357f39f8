"""Fixtures for the pool tests (protocol.md sections 1-3): reserve reconfiguration by field name
and a supplier whose liquidity borrowers draw. The deployment itself comes from
tests/contracts/conftest.py."""

from __future__ import annotations

import pytest

#: ReserveConfig fields in struct order.
CONFIG_FIELDS = (
    "collateralFactor",
    "maxLiquidationBonus",
    "liquidationFee",
    "receiveSharesEnabled",
    "paused",
    "frozen",
    "baseRate",
    "slopeBelowOptimal",
    "slopeAboveOptimal",
    "optimalUtilization",
)

#: Liquidity the supplier provides in every reserve, in whole tokens.
LIQUIDITY = {"WETH": 1_000, "WBTC": 100, "USDC": 10_000_000, "DAI": 10_000_000}


@pytest.fixture(scope="module")
def reconfigure(protocol):
    """reconfigure(symbol, **fields): updateReserveConfig with the named fields changed."""

    def _reconfigure(symbol: str, **changes):
        token = protocol.tokens[symbol]
        current = protocol.pool.getReserveData(token).dict()["config"]
        unknown = set(changes) - set(CONFIG_FIELDS)
        assert not unknown, f"not ReserveConfig fields: {unknown}"
        current.update(changes)
        config = tuple(current[field] for field in CONFIG_FIELDS)
        return protocol.pool.updateReserveConfig(token, config, {"from": protocol.deployer})

    return _reconfigure


@pytest.fixture(scope="module")
def liquidity(protocol, supplier):
    """The supplier has supplied LIQUIDITY of every asset.

    Module-scoped: once a test of a module requests it, every later test of that module starts from
    a state that includes it, so a module either uses it throughout or not at all."""
    for symbol, whole in LIQUIDITY.items():
        protocol.supply(supplier, symbol, protocol.units(symbol, whole))
    return protocol
