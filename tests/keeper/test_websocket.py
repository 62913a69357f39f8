"""With a ws:// URL the keeper subscribes to new heads and to the feeds' AnswerUpdated logs, and
a price update wakes it at once (the poll interval here is 30 s, so polling alone would miss it)."""

from __future__ import annotations

import threading
import time

from harness import make_keeper

WAD = 10**18


def test_price_update_over_websocket_wakes_the_keeper(devnet, keeper_key, tmp_path):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    ws_url = devnet.w3.provider.endpoint_uri.replace("http://", "ws://")
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite", rpc_url=ws_url, poll_interval="30")
    keeper.start()
    thread = threading.Thread(target=keeper.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 10
        while keeper.subscriptions is None or not keeper.subscriptions.ready.is_set():
            assert time.time() < deadline, "no subscription"
            time.sleep(0.05)
        time.sleep(0.5)  # let the loop settle into its 30 s wait
        started = time.time()
        devnet.set_price("WETH", 1900)
        while devnet.health_factor(alice) < WAD:
            assert time.time() - started < 10, "the keeper was not woken by the subscription"
            time.sleep(0.05)
        assert keeper.subscriptions.price_logs >= 1 and keeper.subscriptions.heads >= 1
    finally:
        keeper.stop_event.set()
        keeper.wake.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
