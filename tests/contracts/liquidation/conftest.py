"""Fixtures of the liquidation tests; the helpers and the model live in liquidation_helpers.py."""

from __future__ import annotations

import pytest
from brownie import history, web3
from liquidation_helpers import LIQUIDITY, season

# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolation(module_isolation):
    """Each test starts from the module's deployment (overrides the shared `isolation`).

    Same semantics as brownie's `fn_isolation` (an Anvil snapshot after the module-scoped fixtures,
    reverted after the test; `module_isolation` still resets the chain per module), with raw
    `evm_snapshot`/`evm_revert`: brownie's own revert re-reads the code of every deployed contract
    and runs a full garbage collection, about 0.15 s a test (a sixth of this directory's run
    time). Brownie's transaction history must follow the revert, since it derives the next nonce
    from it; Anvil restores its clock itself, and brownie resyncs its clock offset after every
    transaction."""
    snapshot = web3.provider.make_request("evm_snapshot", [])["result"]
    yield
    response = web3.provider.make_request("evm_revert", [snapshot])
    assert response.get("result") is True, response
    history._revert(web3.eth.block_number)


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
