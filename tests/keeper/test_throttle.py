"""Throttled liquidation and a fixed close factor, on a real chain with Uniswap V3 and the keeper's
FlashLiquidator: with `--max-price-impact-bps N` a liquidation too big for the pool goes out in chunks
whose sales each move the pool by at most about N, over successive blocks, re-checked every block,
until the account is healthy (a whole sale would move it ~30%); with `--close-factor-bps 5000` each
liquidation asks for half the debt."""

from __future__ import annotations

import pytest
from devnet import AnvilNode, Devnet, dev_key
from harness import make_keeper, rpc

from scripts.uniswap import uniswap_contract

KEEPER_INDEX = 10
SUPPLIER_INDEX = 11
WAD = 10**18


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    node = AnvilNode(accounts=12)
    node.start()
    w3 = node.web3()
    net = Devnet.create(
        node, tmp_path_factory.mktemp("throttle") / "deployments", flash_owner=w3.eth.accounts[10]
    )
    supplier = w3.eth.accounts[SUPPLIER_INDEX]
    net.supply(supplier, "USDC", net.units("USDC", 20_000_000))
    yield net
    node.stop()


@pytest.fixture
def devnet(chain):
    snapshot = rpc(chain, "evm_snapshot")
    yield chain
    rpc(chain, "evm_revert", snapshot)
    from scripts.deployer import Sender

    chain.owner = Sender(chain.w3, address=chain.w3.eth.accounts[0])


def whale(devnet: Devnet) -> str:
    """2,000 WETH against USDC at HF 1.02 at $2,000; WETH then falls to $1,800 (HF ~0.92, a bonus of
    ~2.1%) on the oracle and in every pool, past the pools' +-2% band: only their full-range
    liquidity is left to sell into."""
    user = devnet.borrower(1, "WETH", 2_000, "USDC", hf=1.02, collateral_price=2_000)
    devnet.set_price("WETH", 1_800)
    devnet.align_pools()
    return user


def weth_usdc_price(devnet: Devnet, block: int) -> int:
    info = devnet.deployment.uniswap.pool("WETH", "USDC")
    pool = uniswap_contract(devnet.w3, "UniswapV3Pool", info.address)
    sqrt_price = pool.functions.slot0().call(block_identifier=block)[0]
    return sqrt_price * sqrt_price


def liquidation_blocks(devnet: Devnet, user: str, since: int) -> list[tuple[int, int]]:
    logs = devnet.pool.events.LiquidationCall().get_logs(from_block=since)
    return [(e["blockNumber"], e["args"]["debtRepaid"]) for e in logs if e["args"]["user"] == user]


def test_a_liquidation_too_big_for_the_pool_goes_out_in_chunks_of_about_n_until_the_account_is_healthy(
    devnet, tmp_path
):
    user = whale(devnet)
    start = devnet.w3.eth.block_number
    keeper = make_keeper(
        devnet, dev_key(KEEPER_INDEX), tmp_path / "k.sqlite", mode="flash", max_price_impact_bps="150"
    )
    keeper.start()
    for _ in range(60):
        keeper.step()
        rpc(devnet, "evm_mine")
        devnet.align_pools()  # arbitrageurs bring the pools back to the oracle between blocks
        if devnet.health_factor(user) >= WAD:
            break
    assert devnet.health_factor(user) >= WAD, "the chunks finished the job"
    chunks = liquidation_blocks(devnet, user, start)
    assert len(chunks) >= 3, chunks  # one liquidation would have moved the pool by ~30%
    assert len({block for block, _ in chunks}) == len(chunks), "one chunk per block"
    for block, _ in chunks:
        before, after = weth_usdc_price(devnet, block - 1), weth_usdc_price(devnet, block)
        move_bps = abs(before - after) * 10_000 / before
        # At most about N: the chunk is scaled linearly from the whole sale's impact, which grows faster.
        assert move_bps <= 150 * 1.1, (block, move_bps)


def test_without_a_throttle_the_whole_sale_would_move_the_pool_too_far_to_pay_and_nothing_is_sent(
    devnet, tmp_path
):
    user = whale(devnet)
    keeper = make_keeper(devnet, dev_key(KEEPER_INDEX), tmp_path / "k.sqlite", mode="flash")
    keeper.start()
    report = keeper.step()
    assert report is not None and report.sent == []
    assert report.skipped[user] == "the collateral does not cover the swap"
    assert devnet.health_factor(user) < WAD


def test_a_fixed_close_factor_asks_each_liquidation_for_half_the_debt(devnet, tmp_path):
    user = devnet.borrower(1, "WETH", 20, "USDC", hf=1.02, collateral_price=2_000)
    devnet.set_price("WETH", 1_880)
    devnet.align_pools()
    # A target health factor the liquidations never reach, as a protocol without one: the close
    # factor alone sizes them.
    devnet.owner.transact(devnet.pool.functions.setLiquidationConfig(10 * WAD, 7 * WAD // 10, 2_000))
    debt_before = devnet.position(user, "USDC")[1]
    start = devnet.w3.eth.block_number
    keeper = make_keeper(
        devnet, dev_key(KEEPER_INDEX), tmp_path / "k.sqlite", mode="flash", close_factor_bps="5000"
    )
    keeper.start()
    keeper.step()
    rpc(devnet, "evm_mine")
    [(_, repaid)] = liquidation_blocks(devnet, user, start)
    assert abs(repaid - debt_before // 2) <= 10**3  # half, give or take the interest of a few blocks
