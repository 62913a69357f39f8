"""A public testnet's terms: RPC_URL lists several endpoints and the keeper fails over between them
when one stops answering; TX_RPC_URL takes the transactions while reads stay on RPC_URL. Behind a
proxy that adds 150 ms of latency, HTTP 429 and 503 answers and reset connections, the keeper still
liquidates every account of a crash."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from devnet import AnvilNode, free_port
from harness import make_keeper, run_until_idle
from rpc_proxy import Faults

from keeper.config import load_settings
from keeper.errors import ConfigError

WAD = 10**18
#: Anvil accounts 1..9 and 12.. borrow (10 is the keeper, 11 supplies the debt assets).
BORROWERS = [*range(1, 10), *range(12, 18)]


@pytest.fixture
def node():
    anvil = AnvilNode(accounts=20)
    anvil.start()
    yield anvil
    anvil.stop()


def crash(devnet, count: int) -> list[str]:
    users = [
        devnet.borrower(i, "WETH", 10, "USDC", hf=1.02, collateral_price=2000) for i in BORROWERS[:count]
    ]
    devnet.set_price("WETH", 1900)
    assert all(devnet.health_factor(u) < WAD for u in users)
    return users


def test_several_urls_and_tx_rpc_url_are_checked():
    flags = {"rpc_url": " http://a:1 , https://b:2 ", "tx_rpc_url": "https://relay"}
    settings = load_settings(flags, {}, None)
    assert settings.rpc_urls == ["http://a:1", "https://b:2"] and settings.tx_rpc_url == "https://relay"
    with pytest.raises(ConfigError, match="only over http"):
        load_settings({"rpc_url": "ws://a:1,ws://b:2"}, {}, None)
    with pytest.raises(ConfigError, match="TX_RPC_URL must start with http"):
        load_settings({"tx_rpc_url": "relay:8545"}, {}, None)


def test_a_dead_first_url_fails_over_to_the_second(devnet, keeper_key, tmp_path, caplog):
    dead = f"http://127.0.0.1:{free_port()}"
    urls = f"{dead},{devnet.w3.provider.endpoint_uri}"
    with caplog.at_level(logging.WARNING, logger="keeper.providers"):
        keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite", rpc_url=urls)
        keeper.start()
        users = crash(devnet, 3)
        run_until_idle(keeper)
    assert f"rpc_failover endpoints=reads from={dead} to={devnet.w3.provider.endpoint_uri}" in caplog.text
    assert all(devnet.health_factor(u) >= WAD for u in users)


def test_the_endpoint_in_use_dying_mid_run_hands_over(devnet, keeper_key, tmp_path, proxies):
    first, second = proxies(), proxies()
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite", rpc_url=f"{first.url},{second.url}")
    keeper.start()
    first.stop()
    users = crash(devnet, 3)
    run_until_idle(keeper)
    assert all(devnet.health_factor(u) >= WAD for u in users)
    assert second.log.forwarded_methods["eth_sendRawTransaction"] >= 1


def test_transactions_go_to_tx_rpc_url_and_reads_to_rpc_url(devnet, keeper_key, tmp_path, proxies):
    reads, sends = proxies(), proxies()
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite", rpc_url=reads.url, tx_rpc_url=sends.url)
    keeper.start()
    users = crash(devnet, 4)
    run_until_idle(keeper)
    assert all(devnet.health_factor(u) >= WAD for u in users)
    assert set(sends.log.forwarded_methods) == {"eth_sendRawTransaction"}
    assert sends.log.forwarded_methods["eth_sendRawTransaction"] >= 4 + len(keeper.ctx.deployment.assets)
    assert reads.log.forwarded_methods["eth_sendRawTransaction"] == 0
    assert reads.log.forwarded_methods["eth_call"] > 0


def test_a_slow_rate_limited_flaky_rpc_still_liquidates_every_account(devnet, keeper_key, tmp_path, proxies):
    first = proxies(Faults(latency_s=0.15, rate_limit_every=5, reset_every=7))
    second = proxies(Faults(latency_s=0.15, error_every=4))
    keeper = make_keeper(
        devnet, keeper_key, tmp_path / "k.sqlite", rpc_url=f"{first.url},{second.url}", poll_interval=0.1
    )
    keeper.start()
    users = crash(devnet, len(BORROWERS))
    runner = threading.Thread(target=keeper.run, daemon=True)
    runner.start()
    deadline = time.time() + 240
    try:
        while time.time() < deadline and not all(devnet.health_factor(u) >= WAD for u in users):
            time.sleep(0.5)
    finally:
        keeper.stop_event.set()
        keeper.wake.set()
        runner.join(timeout=60)
    assert all(devnet.health_factor(u) >= WAD for u in users)
    faults = first.log.faults + second.log.faults
    assert faults["429"] > 0 and faults["503"] > 0 and faults["reset"] > 0, faults


def test_one_rate_limited_endpoint_is_retried_not_fatal(devnet, keeper_key, tmp_path, proxies):
    """A single RPC_URL that answers HTTP 429 to every third request: the keeper starts and liquidates
    (each refused request is asked again after a pause), rather than stopping at the first 429."""
    only = proxies(Faults(rate_limit_every=3))
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite", rpc_url=only.url)
    keeper.start()
    users = crash(devnet, 3)
    run_until_idle(keeper)
    assert all(devnet.health_factor(u) >= WAD for u in users)
    assert only.log.faults["429"] > 0
