"""The keeper's lifecycle: run a step on every new block until stopped, wake at once on a WebSocket
notification, and ride out node outages with backoff. SIGINT/SIGTERM set `stop_event`: the current
step finishes and is persisted, then `run` returns."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from keeper.chain import connection_reason, revert_reason
from keeper.errors import KeeperError
from keeper.metrics import Metrics
from keeper.subscriptions import ChainSubscriptions

log = logging.getLogger(__name__)

#: Backoff after a failed step: from the first value, doubling up to the last.
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0


class Lifecycle:
    def __init__(
        self,
        step: Callable[[], object | None],
        metrics: Metrics,
        poll_interval: float,
        rpc_url: str,
        feeds: Sequence[str],
        answer_updated_topic: str,
    ):
        """`step` handles the blocks since the last one and returns None when there was none."""
        self.step = step
        self.metrics = metrics
        self.poll_interval = poll_interval
        self.rpc_url = rpc_url
        self.feeds = list(feeds)
        self.answer_updated_topic = answer_updated_topic
        self.stop_event = threading.Event()
        self.wake = threading.Event()
        self.subscriptions: ChainSubscriptions | None = None
        #: Log a `progress` line every this many blocks (0: never), with `describe(report)`'s fields.
        self.progress_every = 0
        self.describe: Callable[[object], str] | None = None
        self._progress_head: int | None = None

    def subscribe(self) -> None:
        """With a ws:// URL, wake on `newHeads` and on the feeds' `AnswerUpdated` logs instead of
        waiting for the next poll."""
        if not self.rpc_url.startswith(("ws://", "wss://")) or self.subscriptions is not None:
            return
        self.subscriptions = ChainSubscriptions(
            self.rpc_url, self.feeds, self.answer_updated_topic, self.wake
        )
        self.subscriptions.start()

    def run(self, max_blocks: int | None = None) -> None:
        """Steps until stopped (or after `max_blocks` steps that found a block). Node outages are
        retried with exponential backoff (0.5 s doubling to 10 s); nothing is skipped."""
        self.subscribe()
        processed_steps = 0
        backoff = FIRST_BACKOFF_S
        while not self.stop_event.is_set():
            try:
                report = self.step()
                self.metrics.node_up.set(1)
                self.metrics.health.node_ok = True
                backoff = FIRST_BACKOFF_S
            except (ConnectionError, OSError, TimeoutError) as exc:
                self._node_down(exc, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            except KeeperError:
                raise
            except Exception as exc:
                if looks_like_connection_error(exc):
                    self._node_down(exc, backoff)
                else:
                    # A step that fails is retried from the last checkpoint: nothing is skipped.
                    log.error(
                        "step_failed error=%s retry_in_s=%.1f", revert_reason(exc), backoff, exc_info=True
                    )
                    self.stop_event.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            if report is not None:
                processed_steps += 1
                self._progress(report)
                if max_blocks is not None and processed_steps >= max_blocks:
                    break
            else:
                self.wake.wait(self.poll_interval)
                self.wake.clear()
        if self.subscriptions is not None:
            self.subscriptions.stop()

    def _progress(self, report: object) -> None:
        """One `progress` line on the first block and then every `progress_every` blocks, so a keeper
        watching idle blocks shows it is alive."""
        head = getattr(report, "head", None)
        if not self.progress_every or self.describe is None or head is None:
            return
        if (
            self._progress_head is None
            or head - self._progress_head >= self.progress_every
            or (
                head < self._progress_head  # a reorg rolled the head back
            )
        ):
            self._progress_head = head
            log.info("progress %s", self.describe(report))

    def _node_down(self, exc: BaseException, backoff: float) -> None:
        self.metrics.node_up.set(0)
        self.metrics.health.node_ok = False
        log.warning(
            "node_unreachable error=%s retry_in_s=%.1f",
            connection_reason(exc),
            backoff,
        )
        self.stop_event.wait(backoff)


def looks_like_connection_error(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    hints = ("connection", "refused", "timed out", "timeout", "max retries", "remote end closed")
    return any(hint in text for hint in hints)
