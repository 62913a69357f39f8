"""Deficit settlement (the zombie sweep): once a reserve holds a deficit, `settleDeficit` pays it
from the insurance fund's shares and then the suppliers'. One settlement in flight per reserve."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from keeper.calls import function
from keeper.dispatch import Dispatcher
from keeper.errors import SimulationError
from keeper.model import Reserve
from keeper.simulation import Simulator
from keeper.transactions import SETTLE, Intent, Sent

log = logging.getLogger(__name__)

SETTLE_DEFICIT = function("LendingPool", "settleDeficit")


class Settlement:
    def __init__(
        self, pool: str, settler: str | None, simulator: Simulator, dispatcher: Dispatcher, enabled: bool
    ):
        """`settler` is the keeper's account; without one (or with --no-settle) nothing is settled."""
        self.pool = pool
        self.settler = settler
        self.simulator = simulator
        self.dispatcher = dispatcher
        self.enabled = enabled and settler is not None

    def settle(self, reserves: Iterable[Reserve], head: int) -> None:
        """Sends `settleDeficit` for every reserve with a deficit and no settlement in flight."""
        if not self.enabled:
            return
        assert self.settler is not None
        in_flight = self.dispatcher.in_flight()
        for reserve in reserves:
            key = f"settle:{reserve.asset}"
            if reserve.deficit == 0 or key in in_flight:
                continue
            call = SETTLE_DEFICIT.call(self.pool, reserve.asset)
            try:
                gas = self.simulator.estimate(call, self.settler)
            except SimulationError as exc:
                log.info("settle_skipped asset=%s reason=%s", reserve.symbol, exc.reason)
                continue
            [outcome] = self.dispatcher.round(head).dispatch([Intent(SETTLE, key, call, gas)])
            if isinstance(outcome, Sent):
                log.info(
                    "settle_sent asset=%s deficit=%d tx=%s",
                    reserve.symbol,
                    reserve.deficit,
                    outcome.record.hash,
                )
