"""A public testnet's terms at full size: 50 borrowers made liquidatable by one price update on a chain
that mines a block every 12 s, with the keeper behind two endpoints that add 150 ms to every answer,
rate-limit (HTTP 429), fail (HTTP 503) and reset connections. The keeper still liquidates every one of
them. What happened is read from the chain (the pool's LiquidationCall logs and the pool's health
factors), not from the keeper's records."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter

from harness import make_keeper, rpc
from rpc_proxy import Faults

from scripts.deployer import Sender, contract
from scripts.population import Seeder, Sizing, borrower_address, seeding_web3

log = logging.getLogger(__name__)

WAD = 10**18
BLOCK_TIME_SECONDS = 12
VICTIMS = 50
PRICES = {"WETH": 2_000.0, "WBTC": 60_000.0, "USDC": 1.0, "DAI": 1.0}
SUPPLIER_INDEX = 11
KEEPER_INDEX = 10


def seed_victims(devnet, node) -> list[str]:
    """50 WETH-collateral borrowers with health factors 1.005-1.04: a 5% WETH fall makes all of them
    liquidatable."""
    rng = random.Random(50)
    sizing = Sizing.of(devnet.deployment, PRICES)
    positions = [
        sizing.position(
            borrower_address(0x5E, i),
            "WETH",
            rng.uniform(10_000, 150_000),
            rng.choice(("USDC", "DAI")),
            rng.uniform(1.005, 1.04),
        )
        for i in range(VICTIMS)
    ]
    seeder = Seeder(seeding_web3(node.url), devnet.deployment, devnet.w3.eth.accounts[SUPPLIER_INDEX])
    seeder.provide(positions, {s: sizing.units(s, 50_000_000) for s in ("USDC", "DAI")})
    seeder.seed(positions)
    devnet.owner = Sender(devnet.w3, address=devnet.owner.address)  # the seeder used the owner's nonces
    keeper = devnet.w3.eth.accounts[KEEPER_INDEX]
    seeder.mint(keeper, {s: sizing.units(s, 20_000_000) for s in ("USDC", "DAI")})
    return [p.borrower for p in positions]


def liquidated_on_chain(devnet, from_block: int) -> dict[str, int]:
    """Borrower -> block of its first LiquidationCall since `from_block`, from the pool's logs."""
    event = devnet.pool.events.LiquidationCall()
    first: dict[str, int] = {}
    for entry in event.get_logs(from_block=from_block):
        first.setdefault(entry["args"]["user"], int(entry["blockNumber"]))
    return first


def test_a_50_account_crash_at_12_s_blocks_behind_a_slow_flaky_rpc_is_liquidated_whole(
    devnet, node, keeper_key, tmp_path, proxies
):
    users = seed_victims(devnet, node)
    first = proxies(Faults(latency_s=0.15, rate_limit_every=5, reset_every=7))
    second = proxies(Faults(latency_s=0.15, error_every=4))
    keeper = make_keeper(
        devnet, keeper_key, tmp_path / "k.sqlite", rpc_url=f"{first.url},{second.url}", poll_interval=0.5
    )
    keeper.start()
    rpc(devnet, "evm_setAutomine", False)
    rpc(devnet, "evm_setIntervalMining", BLOCK_TIME_SECONDS)
    runner = threading.Thread(target=keeper.run, daemon=True)
    runner.start()
    try:
        update_block = devnet.set_price("WETH", PRICES["WETH"] * 0.95)
        lens = contract(devnet.w3, "LiquidationLens", devnet.deployment.lens)
        made = lens.functions.getLiquidatable(users).call(block_identifier=update_block)[0]
        assert len(made) == VICTIMS
        # Generous: at 12 s blocks the keeper should need a block or two; the bound only keeps a
        # broken keeper from hanging the suite.
        deadline = time.time() + 20 * BLOCK_TIME_SECONDS
        while time.time() < deadline and len(liquidated_on_chain(devnet, update_block)) < VICTIMS:
            time.sleep(1)
    finally:
        keeper.stop_event.set()
        keeper.wake.set()
        runner.join(timeout=60)
        rpc(devnet, "evm_setIntervalMining", 0)
        rpc(devnet, "evm_setAutomine", True)

    liquidated = liquidated_on_chain(devnet, update_block)
    delays = Counter(block - update_block for block in liquidated.values())
    log.info("liquidations by blocks after the price update: %s", dict(sorted(delays.items())))
    assert sorted(liquidated) == sorted(users)
    assert all(devnet.health_factor(u) >= WAD for u in users)
    faults = first.log.faults + second.log.faults
    assert faults["429"] > 0 and faults["503"] > 0 and faults["reset"] > 0, faults
