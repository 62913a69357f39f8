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
    "maxLtv",
)

#: Liquidity the supplier provides in every reserve, in whole tokens.
LIQUIDITY = {"WETH": 1_000, "WBTC": 100, "USDC": 10_000_000, "DAI": 10_000_000}


@pytest.fixture(scope="module")
def reconfigure(protocol):
    """reconfigure(symbol, **fields): updateReserveConfig with the named fields changed. The paused and
    frozen flags are not configuration (an update keeps them): they go through setReservePaused and
    setReserveFrozen."""

    def _reconfigure(symbol: str, **changes):
        token = protocol.tokens[symbol]
        owner = {"from": protocol.deployer}
        if "frozen" in changes:
            protocol.pool.setReserveFrozen(token, changes.pop("frozen"), owner)
        if "paused" in changes:
            protocol.pool.setReservePaused(token, changes.pop("paused"), owner)
        current = protocol.pool.getReserveData(token).dict()["config"]
        unknown = set(changes) - set(CONFIG_FIELDS)
        assert not unknown, f"not ReserveConfig fields: {unknown}"
        if "collateralFactor" in changes and "maxLtv" not in changes:
            changes["maxLtv"] = changes["collateralFactor"]  # the helpers' default: borrow at the same line
        current.update(changes)
        config = tuple(current[field] for field in CONFIG_FIELDS)
        return protocol.pool.updateReserveConfig(token, config, owner)

    return _reconfigure


@pytest.fixture(scope="module")
def liquidity(protocol, supplier):
    """The supplier has supplied LIQUIDITY of every asset.

    Module-scoped: once a test of a module requests it, every later test of that module starts from
    a state that includes it, so a module either uses it throughout or not at all."""
    for symbol, whole in LIQUIDITY.items():
        protocol.supply(supplier, symbol, protocol.units(symbol, whole))
    return protocol
