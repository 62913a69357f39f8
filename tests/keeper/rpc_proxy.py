"""A JSON-RPC proxy in front of a node that behaves like a public testnet's endpoint: it adds
latency, answers HTTP 429 or 503 on a fixed share of requests, resets connections, or dies.
Faults come on a fixed rhythm (every Nth request), not at random, so a run can be repeated. A
refused request never reaches the node, as with a real rate limiter."""

from __future__ import annotations

import socket
import struct
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Faults:
    """`latency_s` before every answer; every `rate_limit_every`th request gets HTTP 429, every
    `error_every`th HTTP 503, every `reset_every`th a reset connection (0: never). A slow node:
    `method_delay_s` adds its delay per call of a method, each call of a batch counted (as a node
    that executes a batch's calls one after another)."""

    latency_s: float = 0.0
    rate_limit_every: int = 0
    error_every: int = 0
    reset_every: int = 0
    method_delay_s: dict[str, float] = field(default_factory=dict)


@dataclass
class ProxyLog:
    requests: int = 0
    forwarded_methods: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _methods(body: bytes) -> list[str]:
    import json

    try:
        payload = json.loads(body)
    except ValueError:
        return []
    items = payload if isinstance(payload, list) else [payload]
    return [str(item.get("method")) for item in items if isinstance(item, dict)]


class RpcProxy:
    """Listens on 127.0.0.1 (a free port) and forwards POSTs to `upstream`."""

    def __init__(self, upstream: str, faults: Faults | None = None):
        self.upstream = upstream
        self.faults = faults or Faults()
        self.log = ProxyLog()
        self.dead = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fault = "reset" if proxy.dead.is_set() else proxy._fault()
                time.sleep(proxy.faults.latency_s)
                delays = proxy.faults.method_delay_s
                if delays:
                    time.sleep(sum(delays.get(method, 0.0) for method in _methods(body)))
                if fault == "reset":
                    # SO_LINGER 0: close with RST, the client sees a reset connection.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault in ("429", "503"):
                    self._answer(int(fault), b'{"error": "unavailable"}')
                    return
                with proxy.log.lock:
                    proxy.log.forwarded_methods.update(_methods(body))
                request = urllib.request.Request(
                    proxy.upstream, data=body, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=30) as response:
                    self._answer(response.status, response.read())

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="rpc-proxy", daemon=True)

    def _fault(self) -> str | None:
        with self.log.lock:
            self.log.requests += 1
            n = self.log.requests
            for name, every in (
                ("reset", self.faults.reset_every),
                ("429", self.faults.rate_limit_every),
                ("503", self.faults.error_every),
            ):
                if every and n % every == 0:
                    self.log.faults[name] += 1
                    return name
        return None

    def start(self) -> RpcProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stops answering: the port closes, so new connections are refused, and open (keep-alive)
        connections are reset at their next request."""
        self.dead.set()
        self.server.shutdown()
        self.server.server_close()
