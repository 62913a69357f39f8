"""`eth_call` batches in one JSON-RPC request, where each call may revert on its own
(web3.py's batch helper raises for the whole batch when one call fails)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier

from keeper.contracts import decode_revert, type_string


@dataclass(frozen=True)
class CallResult:
    ok: bool
    value: Any  # decoded outputs (a tuple) when ok, else the decoded revert text


def _block_param(block: BlockIdentifier) -> str:
    return block if isinstance(block, str) else hex(int(block))


def _output_types(fn: ContractFunction) -> list[str]:
    return [type_string(o) for o in fn.abi["outputs"]]


def call_many(
    w3: Web3, calls: Sequence[ContractFunction], caller: str | None, block: BlockIdentifier
) -> list[CallResult]:
    """Runs every call at `block` in one batch request; results in order."""
    if not calls:
        return []
    payload = []
    for fn in calls:
        tx: dict[str, Any] = {"to": fn.address, "data": fn._encode_transaction_data()}
        if caller:
            tx["from"] = caller
        payload.append(("eth_call", [tx, _block_param(block)]))
    provider: Any = w3.provider
    if hasattr(provider, "make_batch_request"):
        responses = provider.make_batch_request(payload)
        if not isinstance(responses, list):
            raise RuntimeError(f"batch request failed: {responses}")
    else:
        responses = [provider.make_request(method, params) for method, params in payload]
    results: list[CallResult] = []
    for fn, response in zip(calls, responses, strict=True):
        if response.get("error"):
            error = response["error"]
            data = error.get("data") if isinstance(error, dict) else None
            if isinstance(data, dict):
                data = data.get("data")
            reason = decode_revert(data) if isinstance(data, str) else str(error.get("message", error))
            results.append(CallResult(False, reason))
            continue
        raw = bytes.fromhex(str(response["result"])[2:])
        try:
            values = w3.codec.decode(_output_types(fn), raw)
        except Exception as exc:  # a node answering garbage
            results.append(CallResult(False, f"undecodable result: {type(exc).__name__}"))
            continue
        results.append(CallResult(True, values))
    return results
