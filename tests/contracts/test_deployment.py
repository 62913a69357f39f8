"""Every contract compiles, and the pool deploys on Anvil with its reserves listed."""

from brownie import LendingPool, LiquidationLens, MockERC20, MockPriceFeed, PriceOracle, project


def test_every_contract_compiles():
    names = set(project.get_loaded_projects()[0].keys())
    assert {"LendingPool", "PriceOracle", "LiquidationLens", "MockERC20", "MockPriceFeed"} <= names


def test_pool_deploys_with_four_reserves(protocol):
    pool = protocol.pool
    assert pool.getReservesList() == [t.address for t in protocol.tokens.values()]
    assert pool.oracle() == protocol.oracle.address
    assert pool.DUST_LIQUIDATION_THRESHOLD() == 1000 * 10**26
    assert tuple(pool.getLiquidationConfig()) == (105 * 10**16, 7 * 10**17, 20_00)
    assert len(LendingPool) == 1 and len(LiquidationLens) == 1 and len(PriceOracle) == 1
    assert len(MockERC20) == 4 and len(MockPriceFeed) == 4
