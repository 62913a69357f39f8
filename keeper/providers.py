"""Several JSON-RPC endpoints behind one web3 provider, so no stage knows there is more than one.

Reads go to the endpoint that answered last and stay there until it stops answering (a refused or
reset connection, a timeout, HTTP 429 or 5xx); then the next endpoint takes over. Transactions
(`eth_sendRawTransaction`, alone or in a batch) go to a separate send endpoint when one is set
(TX_RPC_URL, e.g. a private relay), else through the same failover as reads. An endpoint that
failed the request never saw it (a 429 or a refused connection), so sending it again elsewhere is
safe; a node that already has a transaction answers "already known", which the dispatcher reads."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from web3 import HTTPProvider
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

log = logging.getLogger(__name__)

SEND_METHOD = "eth_sendRawTransaction"
#: HTTP answers that mean "this endpoint cannot serve now": rate limits and server errors.
UNAVAILABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
#: Passes over every endpoint of a group before a request fails, and the pause after each pass
#: (doubling).
PASSES = 3
FIRST_PASS_BACKOFF_S = 0.1

T = TypeVar("T")


def unavailable(exc: BaseException) -> bool:
    """True when `exc` says the endpoint did not serve the request (so another may)."""
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else None
        return status is None or status in UNAVAILABLE_STATUS
    return isinstance(exc, (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError))


@dataclass
class EndpointGroup:
    """Endpoints that can serve the same requests; `index` is the one in use."""

    name: str
    providers: list[HTTPProvider]
    index: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def current(self) -> HTTPProvider:
        with self.lock:
            return self.providers[self.index]

    def fail_over(self, failed: HTTPProvider, exc: BaseException) -> None:
        """Moves past `failed` (unless another thread already did)."""
        with self.lock:
            if self.providers[self.index] is not failed:
                return
            self.index = (self.index + 1) % len(self.providers)
            following = self.providers[self.index]
        if following is failed:  # one endpoint: asked again after the pause, nothing to fail over to
            log.debug("rpc_retry endpoint=%s error=%s", failed.endpoint_uri, _reason(exc))
            return
        log.warning(
            "rpc_failover endpoints=%s from=%s to=%s error=%s",
            self.name,
            failed.endpoint_uri,
            following.endpoint_uri,
            _reason(exc),
        )


def _reason(exc: BaseException) -> str:
    from keeper.chain import connection_reason

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    return connection_reason(exc)


class FailoverProvider(JSONBaseProvider):
    """A web3 provider over several HTTP endpoints for reads and an optional one for sends."""

    def __init__(self, urls: Sequence[str], send_url: str | None, timeout: float, **kwargs: Any):
        """`urls` serve reads (and sends without `send_url`), in order of preference; `kwargs` are
        web3's request-caching options, applied to every endpoint."""
        super().__init__()
        self.reads = EndpointGroup("reads", [self._endpoint(url, timeout, kwargs) for url in urls])
        self.sends = (
            EndpointGroup("sends", [self._endpoint(send_url, timeout, kwargs)]) if send_url else self.reads
        )

    @staticmethod
    def _endpoint(url: str, timeout: float, kwargs: dict[str, Any]) -> HTTPProvider:
        # No retries inside an endpoint: the failover retries, on the next endpoint.
        return HTTPProvider(
            url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None, **kwargs
        )

    @property
    def endpoint_uri(self) -> str:
        return str(self.reads.current().endpoint_uri)

    def __str__(self) -> str:
        urls = ", ".join(str(p.endpoint_uri) for p in self.reads.providers)
        return f"FailoverProvider({urls})"

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        group = self.sends if method == SEND_METHOD else self.reads
        return _with_failover(group, lambda p: p.make_request(method, params))

    def make_batch_request(
        self, batch_requests: list[tuple[RPCEndpoint, Any]]
    ) -> list[RPCResponse] | RPCResponse:
        """One batch per group: the transactions to the send endpoint, the rest to the reads, the
        answers back in the order asked."""
        requests_ = list(batch_requests)
        sends = [i for i, (method, _) in enumerate(requests_) if method == SEND_METHOD]
        if self.sends is self.reads or not sends:
            return _with_failover(self.reads, lambda p: p.make_batch_request(requests_))
        reads = [i for i in range(len(requests_)) if i not in set(sends)]
        answers: list[RPCResponse | None] = [None] * len(requests_)
        for group, indexes in ((self.sends, sends), (self.reads, reads)):
            if not indexes:
                continue
            part = [requests_[i] for i in indexes]
            response = _with_failover(group, lambda p, part=part: p.make_batch_request(part))
            if not isinstance(response, list):
                return response
            for i, answer in zip(indexes, response, strict=True):
                answers[i] = answer
        return [a for a in answers if a is not None]


def _with_failover(group: EndpointGroup, request: Callable[[HTTPProvider], T]) -> T:
    """`request` on the group's endpoint in use, failing over on an unavailable one; after a pass
    over every endpoint, a pause (doubling) before the next. Raises the last error after PASSES."""
    last: BaseException | None = None
    attempts = PASSES * len(group.providers)
    for attempt in range(attempts):
        provider = group.current()
        try:
            return request(provider)
        except Exception as exc:
            if not unavailable(exc):
                raise
            last = exc
            group.fail_over(provider, exc)
            if (attempt + 1) % len(group.providers) == 0 and attempt + 1 < attempts:
                time.sleep(FIRST_PASS_BACKOFF_S * 2 ** (attempt // len(group.providers)))
    assert last is not None
    raise last
