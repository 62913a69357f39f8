"""Simulation before anything is signed: `eth_call` and `eth_estimateGas` of the exact calldata, so
the keeper never sends what would revert, and knows each transaction's expected gas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from web3 import Web3
from web3.contract.contract import ContractFunction

from keeper.chain import revert_reason
from keeper.errors import SimulationError
from keeper.rpc_batch import RawCall, RpcCounter, error_reason, raw_call, send_batch


class Simulator:
    def __init__(self, w3: Web3, rpc: RpcCounter):
        self.w3 = w3
        self.rpc = rpc

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
        one JSON-RPC batch; per call the gas estimate, or the SimulationError naming the revert.

        The latest block, not "pending": on a node holding many of our own transactions, a
        "pending" call re-executes them all first (Anvil: ~35 ms a call with 200 queued), and the
        accounts in one batch are independent, each liquidated once (in-flight intents are skipped)."""
        payload: list[tuple[str, list[Any]]] = []
        for call in map(raw_call, fns):
            tx = {"from": sender, "to": call.to, "data": call.data}
            payload += [("eth_call", [tx, "latest"]), ("eth_estimateGas", [tx, "latest"])]
        if not payload:
            return []
        self.rpc.add()
        try:
            responses = send_batch(self.w3, payload)
        except Exception as exc:
            return [SimulationError(revert_reason(exc)) for _ in fns]
        results: list[int | SimulationError] = []
        for call, estimate in zip(responses[::2], responses[1::2], strict=True):
            failed = call.get("error") or estimate.get("error")
            if failed:
                results.append(SimulationError(error_reason(failed)))
            else:
                results.append(int(estimate["result"], 16))
        return results
