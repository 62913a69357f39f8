"""Prometheus metrics and a `/health` endpoint, on one small HTTP server owned by the keeper."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger(__name__)


@dataclass
class Health:
    """What `/health` reports; unhealthy on a stale head, a node outage or low balances."""

    last_head: int = 0
    last_head_seen: float = field(default_factory=time.time)
    node_ok: bool = True
    low_balance: list[str] = field(default_factory=list)
    stale_after_seconds: float = 60.0

    def status(self, now: float | None = None) -> tuple[bool, dict[str, Any]]:
        now = time.time() if now is None else now
        age = now - self.last_head_seen
        problems = []
        if not self.node_ok:
            problems.append("node unreachable")
        if age > self.stale_after_seconds:
            problems.append(f"no new block for {age:.0f} s")
        problems.extend(f"low balance: {what}" for what in self.low_balance)
        return not problems, {
            "healthy": not problems,
            "problems": problems,
            "last_block": self.last_head,
            "head_age_seconds": round(age, 1),
        }


class Metrics:
    """The keeper's metrics in a registry of its own (no global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.last_block = Gauge("liqkeeper_last_processed_block", "Last fully processed block", registry=r)
        self.detection_blocks = Histogram(
            "liqkeeper_detection_latency_blocks",
            "Blocks from the price update to detection of a liquidatable account",
            buckets=(0, 1, 2, 3, 5, 10, 20, 50),
            registry=r,
        )
        self.detection_ms = Histogram(
            "liqkeeper_detection_latency_ms",
            "Milliseconds from seeing the price-update block to the liquidation being sent",
            buckets=(5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000),
            registry=r,
        )
        self.rpc_per_block = Gauge(
            "liqkeeper_rpc_calls_last_block", "RPC requests for the last block", registry=r
        )
        self.candidates = Gauge(
            "liqkeeper_candidates_last_block", "Liquidatable accounts at the last block", registry=r
        )
        self.accounts = Gauge("liqkeeper_accounts_tracked", "Accounts in the model", registry=r)
        self.pending = Gauge(
            "liqkeeper_pending_transactions", "Transactions sent and not yet mined", registry=r
        )
        self.sent = Counter("liqkeeper_transactions_sent", "Transactions sent", ["kind"], registry=r)
        self.replaced = Counter("liqkeeper_transactions_replaced", "Same-nonce replacements", registry=r)
        self.liquidations = Counter("liqkeeper_liquidations", "Liquidations mined", ["outcome"], registry=r)
        self.skipped = Counter(
            "liqkeeper_opportunities_skipped", "Opportunities not sent", ["reason"], registry=r
        )
        self.eth_balance = Gauge("liqkeeper_native_balance", "Native balance of the keeper (ETH)", registry=r)
        self.token_balance = Gauge(
            "liqkeeper_debt_token_balance",
            "Debt-token balance of the keeper (whole tokens)",
            ["asset"],
            registry=r,
        )
        self.low_balance = Gauge(
            "liqkeeper_low_balance",
            "1 while a balance is below its threshold",
            ["what"],
            registry=r,
        )
        self.node_up = Gauge("liqkeeper_node_up", "1 while the node answers", registry=r)
        self.health = Health()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MetricsServer:
    """Serves `/metrics` and `/health` on 127.0.0.1:`port` in a daemon thread."""

    def __init__(self, metrics: Metrics, port: int, host: str = "127.0.0.1"):
        metrics_ref = metrics

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/metrics"):
                    body, status, ctype = metrics_ref.exposition(), 200, CONTENT_TYPE_LATEST
                elif self.path.startswith("/health"):
                    ok, payload = metrics_ref.health.status()
                    body, status, ctype = (
                        json.dumps(payload).encode(),
                        200 if ok else 503,
                        "application/json",
                    )
                else:
                    body, status, ctype = b"not found\n", 404, "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="metrics", daemon=True)

    def start(self) -> None:
        self.thread.start()
        log.info("metrics_listening url=http://127.0.0.1:%d/metrics", self.port)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
