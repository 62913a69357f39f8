"""FlashLiquidator: a liquidation with no capital through real Uniswap V3 pools (deployed from the npm
packages' bytecode). Only its owner may call it, only the pool it is calling may call it back, it
keeps exactly what the quoter predicts, leaves nothing approved and nothing but profit, and a lost race
fails before any swap."""

from __future__ import annotations

import sys
from pathlib import Path

import brownie
import pytest
from brownie import FlashCallbackAttacker, FlashLiquidator, MockHookERC20, MockPriceFeed, accounts, web3
from eth_abi import encode
from eth_utils import keccak

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from keeper.deployment import AssetInfo  # noqa: E402
from scripts.deployer import Sender  # noqa: E402
from scripts.uniswap import PairPlan, UniswapDeployer, UniswapPlan, uniswap_contract  # noqa: E402

MAX_UINT = 2**256 - 1
WAD = 10**18
LIQUIDITY = {"WETH": 100_000, "WBTC": 10_000, "USDC": 500_000_000, "DAI": 500_000_000}
PAIRS = (PairPlan("WETH", "USDC", 500), PairPlan("WBTC", "WETH", 3000), PairPlan("WETH", "DAI", 3000))


@pytest.fixture(scope="module")
def keeper():
    return accounts[7]


@pytest.fixture(scope="module")
def market(protocol, supplier):
    p = protocol
    for symbol, amount in LIQUIDITY.items():
        p.supply(supplier, symbol, p.units(symbol, amount))
    return p


@pytest.fixture(scope="module")
def uniswap(market):
    """Factory, router, quoter, position manager and three pools at the oracle prices ($20M deep)."""
    assets = {
        s: AssetInfo(s, t.address, t.decimals(), market.feeds[s].address, mock_token=True)
        for s, t in market.tokens.items()
    }
    prices = {s: market.oracle.getPrice(t) for s, t in market.tokens.items()}
    sender = Sender(web3, address=accounts[8].address)
    return UniswapDeployer(web3, sender, UniswapPlan(pairs=PAIRS), assets, prices).deploy()


@pytest.fixture(scope="module")
def flash(market, uniswap, keeper, deployer):
    return FlashLiquidator.deploy(market.pool, uniswap.factory, keeper, {"from": deployer})


def order(
    p, collateral, debt, user, fee, debt_to_cover=MAX_UINT, via=None, via_fee=0, min_profit=0, deadline=None
):
    """An order valid up to `deadline` (default: the next block, the one it is sent for)."""
    return (
        p.tokens[collateral],
        p.tokens[debt],
        user,
        debt_to_cover,
        fee,
        p.tokens[via] if via else brownie.ZERO_ADDRESS,
        via_fee,
        min_profit,
        web3.eth.block_number + 1 if deadline is None else deadline,
    )


def profit_of(tx) -> int:
    """The collateral a flash liquidation left in the contract (its FlashLiquidation event)."""
    return tx.events["FlashLiquidation"]["profit"]


def borrower(p, user, collateral, amount, debt, debt_amount):
    p.supply(user, collateral, p.units(collateral, amount))
    p.pool.setUsingAsCollateral(p.tokens[collateral], True, {"from": user})
    p.borrow(user, debt, p.units(debt, debt_amount))


def quote_exact_output(uniswap, path_tokens: list, fees: list, amount_out: int) -> int:
    """QuoterV2.quoteExactOutput: the input (first token) that buys `amount_out` of the last token,
    at the current state. The path of an exact output is written from the output back to the input."""
    quoter = uniswap_contract(web3, "QuoterV2", uniswap.quoter)
    reversed_tokens = [t.address for t in reversed(path_tokens)]
    path = bytes.fromhex(reversed_tokens[0][2:])
    for fee, token in zip(reversed(fees), reversed_tokens[1:], strict=True):
        path += fee.to_bytes(3, "big") + bytes.fromhex(token[2:])
    return quoter.functions.quoteExactOutput(path, amount_out).call()[0]


def expected_profit(p, uniswap, collateral, debt, user, route_tokens, fees, debt_to_cover=MAX_UINT):
    preview = p.pool.previewLiquidation(p.tokens[collateral], p.tokens[debt], user, debt_to_cover)
    debt_to_repay, to_liquidator = preview[2], preview[4]
    sold = quote_exact_output(uniswap, route_tokens, fees, debt_to_repay)
    return to_liquidator - sold, preview


def assert_holds_only_profit(p, flash, profit_symbol, profit):
    for symbol, token in p.tokens.items():
        expected = profit if symbol == profit_symbol else 0
        assert token.balanceOf(flash) == expected, symbol
        assert token.allowance(flash, p.pool) == 0, symbol


def test_only_the_owner_may_liquidate_or_withdraw(market, flash, alice, bob):
    borrower(market, alice, "WETH", 10, "USDC", 15_000)
    market.set_price("WETH", 1_800 * 10**8)
    with brownie.reverts(revert_pattern=r"OwnableUnauthorizedAccount.*"):
        flash.liquidate(order(market, "WETH", "USDC", alice, 500), {"from": bob})
    with brownie.reverts(revert_pattern=r"OwnableUnauthorizedAccount.*"):
        flash.withdraw(market.tokens["WETH"], bob, 1, {"from": bob})


def test_a_callback_from_anyone_but_the_pool_being_called_reverts(market, uniswap, flash, bob):
    data = encode(["int256", "int256"], [1, 0])
    with brownie.reverts(revert_pattern=r"UnexpectedCallback.*"):
        flash.uniswapV3SwapCallback(10**18, 0, data, {"from": bob})
    # The real pool itself, outside a swap this contract started.
    pool = uniswap.pool("WETH", "USDC").address
    forged = flash.uniswapV3SwapCallback.encode_input(10**18, 0, data)
    call = {"from": pool, "to": flash.address, "data": forged}
    answer = web3.provider.make_request("eth_call", [call])
    selector = keccak(text="UnexpectedCallback(address)")[:4]
    assert answer["error"]["data"] == "0x" + (selector + encode(["address"], [pool])).hex()


def test_the_profit_is_what_the_quoter_predicted_to_the_wei(market, uniswap, flash, keeper, alice, bob):
    borrower(market, alice, "WETH", 10, "USDC", 15_000)
    market.set_price("WETH", 1_800 * 10**8)
    weth, usdc = market.tokens["WETH"], market.tokens["USDC"]
    profit, preview = expected_profit(market, uniswap, "WETH", "USDC", alice, [weth, usdc], [500])
    assert profit > 0

    tx = flash.liquidate(order(market, "WETH", "USDC", alice, 500, min_profit=profit), {"from": keeper})

    assert profit_of(tx) == profit
    assert weth.balanceOf(flash) == profit
    event = tx.events["FlashLiquidation"]
    assert (tx.events["LiquidationCall"]["debtRepaid"], event["profit"]) == (preview[2], profit)
    assert market.health_factor(alice) >= WAD  # to the target
    assert_holds_only_profit(market, flash, "WETH", profit)
    print(f"flash_liquidate (to target, direct pool, first call) gas {tx.gas_used}")

    # Warm: the contract already holds WETH (profit) and has liquidated before.
    borrower(market, bob, "WETH", 10, "USDC", 14_000)
    market.set_price("WETH", 1_700 * 10**8)
    warm = flash.liquidate(order(market, "WETH", "USDC", bob, 500), {"from": keeper})
    assert market.health_factor(bob) >= WAD
    print(f"flash_liquidate (to target, direct pool, warm contract) gas {warm.gas_used}")


def test_below_the_minimum_profit_it_reverts_with_the_amounts(market, uniswap, flash, keeper, alice):
    borrower(market, alice, "WETH", 10, "USDC", 15_000)
    market.set_price("WETH", 1_800 * 10**8)
    weth, usdc = market.tokens["WETH"], market.tokens["USDC"]
    profit, _ = expected_profit(market, uniswap, "WETH", "USDC", alice, [weth, usdc], [500])
    ask = order(market, "WETH", "USDC", alice, 500, min_profit=profit + 1)

    with brownie.reverts(revert_pattern=r"ProfitBelowMinimum.*"):
        flash.liquidate(ask, {"from": keeper})
    # The error carries the profit the call would have made and the minimum asked for.
    selector = keccak(text="ProfitBelowMinimum(uint256,uint256)")[:4]
    data = flash.liquidate.encode_input(ask)
    call = {"from": keeper.address, "to": flash.address, "data": data}
    answer = web3.provider.make_request("eth_call", [call])
    amounts = encode(["uint256", "uint256"], [profit, profit + 1])
    assert answer["error"]["data"] == "0x" + (selector + amounts).hex()


def test_two_hops_through_weth_when_no_direct_pool_exists(market, uniswap, flash, keeper, alice):
    borrower(market, alice, "WBTC", 1, "USDC", 44_000)  # CF 75%: HF 1.023 at $60,000
    market.set_price("WBTC", 57_000 * 10**8)
    assert uniswap.pool("WBTC", "USDC") is None
    wbtc, weth, usdc = market.tokens["WBTC"], market.tokens["WETH"], market.tokens["USDC"]
    profit, _ = expected_profit(market, uniswap, "WBTC", "USDC", alice, [wbtc, weth, usdc], [3000, 500])

    tx = flash.liquidate(
        order(market, "WBTC", "USDC", alice, 500, via="WETH", via_fee=3000, min_profit=profit),
        {"from": keeper},
    )

    assert profit_of(tx) == profit > 0
    assert market.health_factor(alice) >= WAD
    assert_holds_only_profit(market, flash, "WBTC", profit)
    print(f"flash_liquidate_two_hop gas {tx.gas_used}")


def test_collateral_exhausted_the_deficit_is_written_off_in_the_same_call(
    market, uniswap, flash, keeper, alice
):
    borrower(market, alice, "WETH", 10, "USDC", 15_000)
    market.set_price("WETH", 1_400 * 10**8)  # $14,000 of collateral against $15,000 of debt
    weth, usdc = market.tokens["WETH"], market.tokens["USDC"]
    profit, preview = expected_profit(market, uniswap, "WETH", "USDC", alice, [weth, usdc], [500])
    assert preview[6]  # a deficit

    tx = flash.liquidate(order(market, "WETH", "USDC", alice, 500, min_profit=profit), {"from": keeper})

    assert "DeficitReported" in tx.events
    assert market.pool.getUserAccountData(alice)[1] == 0  # no debt left
    assert weth.balanceOf(flash) == profit
    assert_holds_only_profit(market, flash, "WETH", profit)


def test_dust_is_cleared_whole(market, uniswap, flash, keeper, alice):
    # HF 0.987: reaching the target would leave about $875 of debt, under the $1,000 dust line.
    borrower(market, alice, "WETH", 1, "USDC", 1_200)
    market.set_price("WETH", 1_480 * 10**8)
    weth, usdc = market.tokens["WETH"], market.tokens["USDC"]
    profit, _ = expected_profit(market, uniswap, "WETH", "USDC", alice, [weth, usdc], [500])

    tx = flash.liquidate(order(market, "WETH", "USDC", alice, 500, min_profit=profit), {"from": keeper})

    assert profit_of(tx) == profit
    assert market.pool.getUserShares(alice, usdc)[1] == 0  # the whole debt repaid
    assert_holds_only_profit(market, flash, "WETH", profit)


def test_a_lost_race_fails_before_any_swap(market, uniswap, flash, keeper, alice, liquidator):
    borrower(market, alice, "WETH", 10, "USDC", 15_000)
    market.set_price("WETH", 1_800 * 10**8)
    market.mint_and_approve(liquidator, "USDC", market.units("USDC", 100_000))
    weth, usdc = market.tokens["WETH"], market.tokens["USDC"]
    market.pool.liquidate(weth, usdc, alice, MAX_UINT, False, {"from": liquidator})
    pool = uniswap_contract(web3, "UniswapV3Pool", uniswap.pool("WETH", "USDC").address)
    price_before = pool.functions.slot0().call()[0]

    with brownie.reverts(revert_pattern=r"HealthFactorNotBelowThreshold.*"):
        flash.liquidate(
            order(market, "WETH", "USDC", alice, 500),
            {"from": keeper, "gas_limit": 1_000_000, "allow_revert": True},
        )
    tx = brownie.history[-1]

    assert tx.status == 0
    assert pool.functions.slot0().call()[0] == price_before  # no swap ran
    print(f"flash_liquidate lost race gas {tx.gas_used}")
    assert tx.gas_used < 100_000


def test_an_order_mined_after_its_deadline_fails_before_anything_else(market, uniswap, flash, keeper, alice):
    borrower(market, alice, "WETH", 10, "USDC", 15_000)
    market.set_price("WETH", 1_800 * 10**8)
    stale = order(market, "WETH", "USDC", alice, 500, deadline=web3.eth.block_number)  # quoted a block ago

    with brownie.reverts(revert_pattern=r"OrderExpired.*"):
        flash.liquidate(stale, {"from": keeper, "gas_limit": 1_000_000, "allow_revert": True})
    tx = brownie.history[-1]

    assert tx.status == 0 and market.pool.getUserShares(alice, market.tokens["USDC"])[1] > 0
    print(f"flash_liquidate expired order gas {tx.gas_used}")
    assert tx.gas_used < 30_000
    assert profit_of(flash.liquidate(order(market, "WETH", "USDC", alice, 500), {"from": keeper})) > 0


def test_the_owner_withdraws_the_profit(market, uniswap, flash, keeper, alice):
    borrower(market, alice, "WETH", 10, "USDC", 15_000)
    market.set_price("WETH", 1_800 * 10**8)
    tx = flash.liquidate(order(market, "WETH", "USDC", alice, 500), {"from": keeper})
    profit = profit_of(tx)
    weth = market.tokens["WETH"]
    before = weth.balanceOf(keeper)

    withdrawal = flash.withdraw(weth, keeper, profit, {"from": keeper})

    assert weth.balanceOf(keeper) - before == profit
    assert weth.balanceOf(flash) == 0
    assert withdrawal.events["ProfitWithdrawn"]["amount"] == profit


def forged_step(p, user, attacker) -> bytes:
    """Callback data a forger would send: a Step that liquidates `user` and pays `attacker`'s pool."""
    return encode(
        ["(address,address,address,uint256,uint256,address,address)"],
        [
            (
                p.tokens["WETH"].address,
                p.tokens["USDC"].address,
                user.address,
                MAX_UINT,
                1,
                p.tokens["WETH"].address,
                attacker,
            )
        ],
    )


def test_a_contract_posing_as_a_pool_cannot_make_it_pay(market, uniswap, flash, alice, deployer):
    borrower(market, alice, "WETH", 10, "USDC", 15_000)
    market.set_price("WETH", 1_800 * 10**8)
    attacker = FlashCallbackAttacker.deploy(flash, {"from": deployer})

    attacker.attack(10**18, 0, forged_step(market, alice, attacker.address), {"from": deployer})

    selector = keccak(text="UnexpectedCallback(address)")[:4]
    assert (attacker.attempts(), attacker.refusals()) == (1, 1)
    assert bytes(attacker.lastError()) == selector
    assert market.pool.getUserShares(alice, market.tokens["USDC"])[1] > 0  # nothing liquidated
    assert_holds_only_profit(market, flash, "WETH", 0)


def test_a_hook_token_cannot_forge_a_callback_from_inside_the_flash_swap(market, keeper, alice, deployer):
    """HOOK, a collateral whose transfers call out (an ERC777-style hook): while the FlashLiquidator is in
    its own swap's callback, the pool's transfer of the seized HOOK hands control to the attacker, which
    forges a callback. It is refused (only the pool being called may call back), and the liquidation
    completes."""
    p = market
    hook = MockHookERC20.deploy("HOOK", "HOOK", 18, {"from": deployer})
    feed = MockPriceFeed.deploy(8, 2_000 * 10**8, {"from": deployer})
    p.oracle.setFeed(hook, feed, 3600, {"from": deployer})
    # ReserveConfig: CF 80%, max bonus 105%, fee 10%, receive shares, zero rates, optimal 80%, maxLtv 80%.
    p.pool.addReserve(
        hook, (80_00, 105_00, 10_00, True, False, False, 0, 0, 0, 80_00, 80_00), {"from": deployer}
    )
    hook.mint(alice, 10 * 10**18, {"from": alice})
    hook.approve(p.pool, MAX_UINT, {"from": alice})
    p.pool.supply(hook, 10 * 10**18, alice, {"from": alice})
    p.borrow(alice, "USDC", p.units("USDC", 15_000))
    feed.setPrice(1_800 * 10**8, {"from": deployer})
    assets = {
        "HOOK": AssetInfo("HOOK", hook.address, 18, feed.address, mock_token=True),
        "USDC": AssetInfo("USDC", p.tokens["USDC"].address, 6, p.feeds["USDC"].address, mock_token=True),
        "WETH": AssetInfo("WETH", p.tokens["WETH"].address, 18, p.feeds["WETH"].address, mock_token=True),
    }
    prices = {"HOOK": 1_800 * 10**8, "USDC": 10**8, "WETH": 1_800 * 10**8}
    sender = Sender(web3, address=accounts[8].address)
    hooked = UniswapDeployer(
        web3, sender, UniswapPlan(pairs=(PairPlan("HOOK", "USDC", 500),)), assets, prices
    ).deploy()
    flash = FlashLiquidator.deploy(p.pool, hooked.factory, keeper, {"from": deployer})
    attacker = FlashCallbackAttacker.deploy(flash, {"from": deployer})
    hook.setHook(attacker, {"from": deployer})
    attacker.arm(10**18, 0, forged_step(p, alice, attacker.address), {"from": deployer})

    tx = flash.liquidate(
        (hook, p.tokens["USDC"], alice, MAX_UINT, 500, brownie.ZERO_ADDRESS, 0, 0, web3.eth.block_number + 1),
        {"from": keeper},
    )

    assert (attacker.attempts(), attacker.refusals()) == (1, 1)
    assert bytes(attacker.lastError()) == keccak(text="UnexpectedCallback(address)")[:4]
    assert profit_of(tx) > 0 and hook.balanceOf(flash) == profit_of(tx)
    assert hook.balanceOf(attacker) == 0
    assert p.health_factor(alice) >= WAD
