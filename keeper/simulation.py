"""Simulation before anything is signed: `eth_call` and `eth_estimateGas` of the exact calldata, so
the keeper never sends what would revert, and knows each transaction's expected gas.

A batch the node does not answer in time (a slow node: Ganache takes 0.4-0.9 s an estimate) is a
timeout, not a revert: its calls come back as `SimulationTimeout`, and the next batches are half
as large (down to one call) with twice the read timeout (up to `MAX_TIMEOUT_S`). Each batch
answered in time doubles the size back and halves the timeout back, to the default (no limit,
the provider's own timeout)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import requests
from web3 import Web3
from web3.contract.contract import ContractFunction

from keeper import chain
from keeper.chain import revert_reason
from keeper.errors import SimulationError, SimulationTimeout
from keeper.rpc_batch import RawCall, RpcCounter, error_reason, raw_call, send_batch, send_batch_within

log = logging.getLogger(__name__)

#: The longest read timeout a simulation batch gets after timeouts.
MAX_TIMEOUT_S = 60.0
#: A batch limit this large after a recovery is lifted.
UNLIMITED_FROM = 64
TIMEOUTS = (requests.Timeout, requests.ConnectionError, TimeoutError, ConnectionError)


class Simulator:
    def __init__(self, w3: Web3, rpc: RpcCounter, timeout_s: float | None = None):
        """`timeout_s`: the provider's read timeout (default `chain.RPC_TIMEOUT_SECONDS`)."""
        self.w3 = w3
        self.rpc = rpc
        self.default_timeout_s = chain.RPC_TIMEOUT_SECONDS if timeout_s is None else timeout_s
        self.timeout_s = self.default_timeout_s
        self.batch_limit: int | None = None  # calls per batch; None: all in one

    def estimate(self, fn: ContractFunction | RawCall, sender: str) -> int:
        """eth_call then estimateGas on the exact calldata; the gas estimate, or SimulationError."""
        result = self.estimate_many([fn], sender)[0]
        if isinstance(result, SimulationError):
            raise result
        return result

    def estimate_many(
        self, fns: Sequence[ContractFunction | RawCall], sender: str
    ) -> list[int | SimulationError]:
        """`eth_call` and `eth_estimateGas` of every call's exact calldata at the latest block, all in
        one JSON-RPC batch (in batches of `batch_limit` calls after a timeout); per call the gas
        estimate, the SimulationError naming the revert, or a SimulationTimeout.

        The latest block, not "pending": on a node holding many of our own transactions, a
        "pending" call re-executes them all first (Anvil: ~35 ms a call with 200 queued), and the
        accounts in one batch are independent, each liquidated once (in-flight intents are skipped)."""
        raws = [raw_call(fn) for fn in fns]
        size = self.batch_limit or max(1, len(raws))
        results: list[int | SimulationError] = []
        timed_out: SimulationTimeout | None = None
        for start in range(0, len(raws), size):
            batch = raws[start : start + size]
            if timed_out is not None:  # the rest waits for the next block rather than time out too
                results += [SimulationTimeout(timed_out.reason) for _ in batch]
                continue
            answers = self._batch(batch, sender)
            if answers and isinstance(answers[0], SimulationTimeout):
                timed_out = answers[0]
            results += answers
        return results

    def _batch(self, calls: Sequence[RawCall], sender: str) -> list[int | SimulationError]:
        """One JSON-RPC batch of `calls`; every result a `SimulationTimeout` when it timed out."""
        payload: list[tuple[str, list[Any]]] = []
        for call in calls:
            tx = {"from": sender, "to": call.to, "data": call.data}
            payload += [("eth_call", [tx, "latest"]), ("eth_estimateGas", [tx, "latest"])]
        if not payload:
            return []
        self.rpc.add()
        try:
            if self.timeout_s == self.default_timeout_s:
                responses = send_batch(self.w3, payload)
            else:
                responses = send_batch_within(self.w3, payload, self.timeout_s)
        except TIMEOUTS as exc:
            self._timed_out(len(calls), exc)
            return [SimulationTimeout(revert_reason(exc)) for _ in calls]
        except Exception as exc:
            return [SimulationError(revert_reason(exc)) for _ in calls]
        self._answered()
        results: list[int | SimulationError] = []
        for call, estimate in zip(responses[::2], responses[1::2], strict=True):
            failed = call.get("error") or estimate.get("error")
            if failed:
                results.append(SimulationError(error_reason(failed)))
            else:
                results.append(int(estimate["result"], 16))
        return results

    def _timed_out(self, calls: int, exc: BaseException) -> None:
        """Half the batch (at least one call), twice the timeout (at most MAX_TIMEOUT_S)."""
        self.batch_limit = max(1, calls // 2)
        self.timeout_s = min(MAX_TIMEOUT_S, self.timeout_s * 2)
        log.warning(
            "simulation_timed_out calls=%d next_batch=%d next_timeout_s=%.1f error=%s",
            calls,
            self.batch_limit,
            self.timeout_s,
            revert_reason(exc),
        )

    def _answered(self) -> None:
        """A batch answered in time: twice the batch and half the timeout, back to the defaults."""
        if self.batch_limit is not None:
            self.batch_limit = None if self.batch_limit * 2 >= UNLIMITED_FROM else self.batch_limit * 2
        self.timeout_s = max(self.default_timeout_s, self.timeout_s / 2)
