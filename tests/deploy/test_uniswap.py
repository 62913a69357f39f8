"""Uniswap V3 on the devnet, deployed from the bytecode the npm packages ship: the pools sit where the
periphery computes them, start at the oracle's price, hold the planned depth, and quote and swap
through the real QuoterV2 and SwapRouter; the same on Ganache 7."""

from __future__ import annotations

import math

import pytest

from scripts.deployer import Sender, contract, default_plan, deploy
from scripts.devnode import AnvilNode, GanacheNode
from scripts.uniswap import (
    DEVNET_UNISWAP,
    PERIPHERY_POOL_INIT_CODE_HASH,
    artifact,
    pool_address,
    pool_init_code_hash,
    tick_of_price,
    uniswap_contract,
)

MAX_UINT = 2**256 - 1


@pytest.fixture(scope="module", params=["anvil", "ganache"])
def chain(request):
    node = AnvilNode() if request.param == "anvil" else GanacheNode()
    node.start()
    try:
        w3 = node.web3()
        deployment = deploy(w3, Sender(w3, address=w3.eth.accounts[0]), default_plan())
        yield w3, deployment
    finally:
        node.stop()


def oracle_price(w3, deployment, symbol: str) -> int:
    oracle = contract(w3, "PriceOracle", deployment.oracle)
    return oracle.functions.getPrice(deployment.asset_by_symbol(symbol).address).call()


def test_the_shipped_pool_bytecode_is_the_one_the_periphery_computes_addresses_for():
    assert pool_init_code_hash() == PERIPHERY_POOL_INIT_CODE_HASH
    for name in ("SwapRouter", "QuoterV2", "NonfungiblePositionManager"):
        assert PERIPHERY_POOL_INIT_CODE_HASH[2:] in artifact(name)["bytecode"]


def test_every_planned_pair_has_a_pool_where_the_periphery_computes_it(chain):
    w3, deployment = chain
    uniswap = deployment.uniswap
    assert uniswap is not None and uniswap.deployed
    factory = uniswap_contract(w3, "UniswapV3Factory", uniswap.factory)
    assert len(uniswap.pools) == len(DEVNET_UNISWAP.pairs)
    for pool in uniswap.pools:
        token0 = deployment.asset_by_symbol(pool.token0).address
        token1 = deployment.asset_by_symbol(pool.token1).address
        assert int(token0, 16) < int(token1, 16)
        assert factory.functions.getPool(token0, token1, pool.fee).call() == pool.address
        assert pool_address(uniswap.factory, token0, token1, pool.fee) == pool.address
        on_chain = uniswap_contract(w3, "UniswapV3Pool", pool.address)
        assert (on_chain.functions.token0().call(), on_chain.functions.fee().call()) == (token0, pool.fee)


def test_each_pool_starts_at_the_oracle_price_within_one_tick(chain):
    w3, deployment = chain
    for pool in deployment.uniswap.pools:
        a0, a1 = deployment.asset_by_symbol(pool.token0), deployment.asset_by_symbol(pool.token1)
        expected = oracle_price(w3, deployment, pool.token0) / oracle_price(w3, deployment, pool.token1)
        expected_raw = expected * 10**a1.decimals / 10**a0.decimals  # token1 units per token0 unit
        tick = uniswap_contract(w3, "UniswapV3Pool", pool.address).functions.slot0().call()[1]
        assert abs(tick - tick_of_price(expected_raw)) <= 1, (pool, tick)


def test_each_pool_holds_the_planned_band_and_full_range_liquidity(chain):
    w3, deployment = chain
    for pool in deployment.uniswap.pools:
        value = 0.0
        for symbol in (pool.token0, pool.token1):
            asset = deployment.asset_by_symbol(symbol)
            held = contract(w3, "MockERC20", asset.address).functions.balanceOf(pool.address).call()
            value += held / 10**asset.decimals * oracle_price(w3, deployment, symbol) / 1e8
        planned = DEVNET_UNISWAP.depth_usd + DEVNET_UNISWAP.full_range_usd
        assert math.isclose(value, planned, rel_tol=0.02), (pool, value)
        lower_upper = _position_ticks(w3, deployment, pool)
        price = 1.0001 ** uniswap_contract(w3, "UniswapV3Pool", pool.address).functions.slot0().call()[1]
        assert 1.0001 ** lower_upper[0] <= price * 0.98 and 1.0001 ** lower_upper[1] >= price * 1.02


def _position_ticks(w3, deployment, pool) -> tuple[int, int]:
    manager = uniswap_contract(w3, "NonfungiblePositionManager", deployment.uniswap.position_manager)
    for token_id in range(1, manager.functions.totalSupply().call() + 1):
        position = manager.functions.positions(token_id).call()
        fields = dict(zip(("token0", "token1", "fee", "tickLower", "tickUpper"), position[2:7], strict=True))
        if (fields["token0"], fields["fee"]) == (deployment.asset_by_symbol(pool.token0).address, pool.fee):
            if fields["token1"] == deployment.asset_by_symbol(pool.token1).address:
                return fields["tickLower"], fields["tickUpper"]
    raise AssertionError(f"no position for {pool}")


def test_a_swap_through_the_router_pays_exactly_what_the_quoter_quoted(chain):
    w3, deployment = chain
    uniswap = deployment.uniswap
    trader = w3.eth.accounts[3]
    weth = contract(w3, "MockERC20", deployment.asset_by_symbol("WETH").address)
    usdc = contract(w3, "MockERC20", deployment.asset_by_symbol("USDC").address)
    sender = Sender(w3, address=trader)
    amount_in = 10 * 10**18
    sender.transact(weth.functions.mint(trader, amount_in))
    sender.transact(weth.functions.approve(uniswap.router, amount_in))
    fee = uniswap.pool("WETH", "USDC").fee
    quoter = uniswap_contract(w3, "QuoterV2", uniswap.quoter)
    quoted = quoter.functions.quoteExactInputSingle((weth.address, usdc.address, amount_in, fee, 0)).call()[0]

    router = uniswap_contract(w3, "SwapRouter", uniswap.router)
    before = usdc.functions.balanceOf(trader).call()
    sender.transact(
        router.functions.exactInputSingle(
            (weth.address, usdc.address, fee, trader, 2**64, amount_in, quoted, 0)
        )
    )

    received = usdc.functions.balanceOf(trader).call() - before
    assert received == quoted
    # 10 WETH at $2,000 through 0.05% fee and $20M of depth: within 0.1% of the oracle value.
    assert math.isclose(received / 1e6, 20_000, rel_tol=1e-3)
