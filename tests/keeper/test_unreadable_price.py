"""One reserve's price cannot be read (its feed answers a stale round): the accounts that use it cannot
be valued, but the keeper keeps running and liquidates every other account (the lens flags the
unreadable ones instead of failing the whole batch)."""

from __future__ import annotations

from harness import make_keeper, run_until_idle

from keeper.maths import UNREADABLE_HEALTH_FACTOR

WAD = 10**18


def test_a_stale_feed_on_one_reserve_does_not_stop_the_liquidation_of_the_others(
    devnet, keeper_key, tmp_path, caplog
):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    bob = devnet.borrower(2, "WBTC", 1, "DAI", hf=1.02, collateral_price=60_000, cf=0.75)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()

    now = devnet.w3.eth.get_block("latest")["timestamp"]
    feed = devnet.feed("WBTC")
    devnet.owner.transact(feed.functions.setRoundData(50_000 * 10**8, now - 10 * 86_400))  # stale
    devnet.set_price("WETH", 1900)
    assert devnet.health_factor(alice) < WAD

    reports = run_until_idle(keeper)

    liquidated = {e["args"]["user"] for e in devnet.pool.events.LiquidationCall().get_logs(from_block=0)}
    assert liquidated == {alice}
    assert devnet.health_factor(alice) >= WAD
    assert keeper.health_factor(bob) == UNREADABLE_HEALTH_FACTOR
    assert all(bob not in r.candidates for r in reports)  # not taken for liquidatable at any block
    assert "model_mismatch" not in caplog.text
