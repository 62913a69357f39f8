"""The independent observer (bench/observer.py) derives liquidation episodes from the chain: an
account made liquidatable, liquidated partially three blocks later, then healthy again is one
episode with delay 3; a reverted liquidation from a watched sender is counted with its gas."""

from __future__ import annotations

import pytest

from bench.observer import Liquidation, Observer, derive_episodes, figures

MAX = 2**256 - 1
WAD = 10**18


def rpc(devnet, method, *params):
    answer = devnet.w3.provider.make_request(method, list(params))
    assert not answer.get("error"), answer


def test_partial_liquidation_then_recovery_is_one_episode_with_its_delay(devnet, tmp_path):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    bob = devnet.borrower(2, "WETH", 10, "USDC", hf=1.6, collateral_price=2000)
    liquidator = devnet.w3.eth.accounts[5]
    devnet.fund(liquidator, "USDC", devnet.units("USDC", 1_000_000))
    devnet.sender(liquidator).transact(devnet.token("USDC").functions.approve(devnet.deployment.pool, MAX))
    start = devnet.w3.eth.block_number
    drop = devnet.set_price("WETH", 1900)
    rpc(devnet, "evm_mine")
    rpc(devnet, "evm_mine")
    weth, usdc = devnet.token("WETH").address, devnet.token("USDC").address
    small = devnet.units("USDC", 50)
    receipt = devnet.sender(liquidator).transact(
        devnet.pool.functions.liquidate(weth, usdc, alice, small, False)
    )
    liquidated = int(receipt["blockNumber"])
    assert devnet.health_factor(alice) < WAD  # only partly liquidated
    recovered = devnet.set_price("WETH", 2100)
    tx = devnet.pool.functions.liquidate(weth, usdc, alice, small, False).transact(
        {"from": liquidator, "gas": 900_000}
    )
    reverted = devnet.w3.eth.wait_for_transaction_receipt(tx)
    assert reverted["status"] == 0
    end = devnet.w3.eth.block_number

    obs = Observer(devnet.w3.provider.endpoint_uri, devnet.deployment_path).observe(
        start, end, watch=[liquidator]
    )

    assert set(obs.borrowers) == {alice, bob}
    assert len(obs.episodes) == 1
    episode = obs.episodes[0]
    assert (episode.user, episode.start_block, episode.end_block, episode.end) == (
        alice,
        drop,
        recovered,
        "healthy",
    )
    assert episode.delay == liquidated - drop == 3
    [liq] = episode.liquidations
    assert (liq.liquidator, liq.sender, liq.block, liq.debt_repaid) == (
        liquidator,
        liquidator,
        liquidated,
        small,
    )
    assert liq.debt_repaid_usd == 50.0
    # Valued at the price the liquidation executed at (implied by its amounts): the oracle's $1,900, to
    # the precision of the seized amount (its shares are converted to assets rounding down).
    assert liq.collateral_price == pytest.approx(1900 * 10**8, rel=1e-7)
    assert liq.collateral_seized_usd == pytest.approx(liq.collateral_seized * 1900 / 1e18, rel=1e-7)
    assert liq.gas_used == receipt["gasUsed"]
    assert obs.still_liquidatable == []
    f = figures(obs, keeper=liquidator)
    assert f["accounts_liquidatable"] == f["accounts_liquidated"] == 1
    assert f["next_block_share"] == 0.0 and f["liquidated_within_5_blocks_share"] == 1.0
    assert f["races_won_share"] == 1.0
    assert (f["keeper_reverted_txs"], f["keeper_reverted_gas"]) == (1, reverted["gasUsed"])


def test_an_account_liquidatable_at_the_end_stays_open_and_a_liquidation_within_its_block_starts_one():
    hfs = {10: {"a": 2 * WAD, "b": 2 * WAD}, 11: {"a": WAD - 1, "b": 2 * WAD}, 12: {"a": WAD - 1, "b": MAX}}

    liq = Liquidation(
        block=12,
        tx_hash="0x01",
        tx_index=0,
        log_index=0,
        user="b",
        liquidator="k",
        sender="k",
        collateral_asset="c",
        debt_asset="d",
        debt_repaid=1,
        collateral_seized=1,
        protocol_fee=0,
        liquidation_bonus=0,
        health_factor_before=WAD - 1,
        gas_used=1,
        priority_fee_wei=0,
        debt_repaid_usd=1.0,
        collateral_seized_usd=1.0,
    )
    episodes, still = derive_episodes(["a", "b"], [10, 11, 12], hfs, [liq])
    assert still == ["a"]
    by_user = {e.user: e for e in episodes}
    assert (by_user["a"].start_block, by_user["a"].end, by_user["a"].delay) == (11, "open", None)
    assert (by_user["b"].start_block, by_user["b"].end_block, by_user["b"].end, by_user["b"].delay) == (
        12,
        12,
        "closed",
        0,
    )
