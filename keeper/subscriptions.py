"""WebSocket subscriptions (`eth_subscribe` to new heads and to the feeds' `AnswerUpdated` logs) that
wake the keeper the moment a block or a price update arrives. They only trigger work: the block is
then read through the normal RPC path, so a lost notification costs at most one poll interval."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence

from websockets.sync.client import connect

log = logging.getLogger(__name__)


class ChainSubscriptions:
    """A daemon thread holding one WebSocket with two subscriptions; `wake` is set on every
    notification. Reconnects with backoff when the socket drops."""

    def __init__(self, url: str, feeds: Sequence[str], answer_updated_topic: str, wake: threading.Event):
        self.url = url
        self.feeds = list(feeds)
        self.topic = answer_updated_topic
        self.wake = wake
        self.heads = 0
        self.price_logs = 0
        self.stopped = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="subscriptions", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread.is_alive() and threading.current_thread() is not self.thread:
            self.thread.join(timeout=3)

    def _run(self) -> None:
        backoff = 0.5
        while not self.stopped.is_set():
            try:
                with connect(self.url, open_timeout=5, close_timeout=1) as ws:
                    ws.send(
                        json.dumps(
                            {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}
                        )
                    )
                    ws.send(
                        json.dumps(
                            {
                                "jsonrpc": "2.0",
                                "id": 2,
                                "method": "eth_subscribe",
                                "params": ["logs", {"address": self.feeds, "topics": [self.topic]}],
                            }
                        )
                    )
                    ids: dict[str, str] = {}
                    backoff = 0.5
                    while not self.stopped.is_set():
                        try:
                            raw = ws.recv(timeout=1)
                        except TimeoutError:
                            continue
                        message = json.loads(raw)
                        if message.get("id") in (1, 2) and "result" in message:
                            ids[message["result"]] = "heads" if message["id"] == 1 else "prices"
                            if len(ids) == 2:
                                self.ready.set()
                                log.info("subscribed url=%s feeds=%d", self.url, len(self.feeds))
                            continue
                        params = message.get("params") or {}
                        kind = ids.get(params.get("subscription"))
                        if kind == "heads":
                            self.heads += 1
                        elif kind == "prices":
                            self.price_logs += 1
                        self.wake.set()
            except Exception as exc:  # the node went away: polling carries on meanwhile
                self.ready.clear()
                if self.stopped.is_set():
                    return
                log.warning("subscription_lost error=%s retry_in_s=%.1f", type(exc).__name__, backoff)
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, 10.0)
