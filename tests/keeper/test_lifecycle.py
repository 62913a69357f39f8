"""The run loop without a node or a clock: an unreachable node is retried with a backoff that
doubles to 10 s and resets after a good step, /health follows the node, a failed step is retried,
a configuration error stops the loop, and `max_blocks` counts steps that found a block."""

from __future__ import annotations

import threading

import pytest

from keeper.errors import ConfigError
from keeper.lifecycle import Lifecycle
from keeper.metrics import Metrics


class Waits(threading.Event):
    """An event whose waits return at once and are recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.waited: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waited.append(timeout or 0.0)
        return self.is_set()


def lifecycle_of(script: list, metrics: Metrics) -> tuple[Lifecycle, Waits, Waits]:
    """A lifecycle whose step plays `script`: an exception is raised, anything else returned."""
    steps = iter(script)

    def step():
        outcome = next(steps)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    lifecycle = Lifecycle(step, metrics, 0.2, "http://127.0.0.1:1", [], "0x")
    lifecycle.stop_event, lifecycle.wake = Waits(), Waits()
    return lifecycle, lifecycle.stop_event, lifecycle.wake


def test_an_unreachable_node_is_retried_with_a_doubling_backoff_that_resets_after_a_good_step():
    metrics = Metrics()
    outage = [ConnectionError("refused")] * 6
    lifecycle, stop, _ = lifecycle_of([*outage, "block", ConnectionError("refused"), "block"], metrics)

    lifecycle.run(max_blocks=2)

    assert stop.waited == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 0.5]
    assert metrics.health.node_ok and b"liqkeeper_node_up 1.0" in metrics.exposition()


def test_health_is_unhealthy_while_the_node_is_down():
    metrics = Metrics()
    seen: list[bool] = []
    lifecycle, _, _ = lifecycle_of([OSError("connection reset"), "block"], metrics)
    inner = lifecycle.step

    def watching():
        seen.append(metrics.health.node_ok)
        return inner()

    lifecycle.step = watching
    lifecycle.run(max_blocks=1)
    assert seen == [True, False]


def test_a_failed_step_is_retried_and_an_error_of_the_operator_stops_the_loop(caplog):
    lifecycle, stop, _ = lifecycle_of([ValueError("bad answer"), "block"], Metrics())
    with caplog.at_level("ERROR"):
        lifecycle.run(max_blocks=1)
    assert "step_failed" in caplog.text and stop.waited == [0.5]

    lifecycle, _, _ = lifecycle_of([ConfigError("DB_PATH belongs to another deployment")], Metrics())
    with pytest.raises(ConfigError):
        lifecycle.run()


def test_a_step_without_a_new_block_waits_for_the_next_poll_or_a_notification():
    lifecycle, _, wake = lifecycle_of([None, None, "block"], Metrics())
    lifecycle.run(max_blocks=1)
    assert wake.waited == [0.2, 0.2]
