"""The keeper's JSON-RPC batch client: `eth_call` batches in one request, where each call may revert on
its own (web3.py's batch helper raises for the whole batch when one call fails), and the counter of
the requests the keeper makes.

Calls are either web3 contract functions or `RawCall`s whose calldata is encoded here: web3.py
validates and checksums every argument, which costs ~0.2 ms per address, so the lens reads of
thousands of accounts encode their own calldata (`keeper.calls` derives their types from the ABI)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import requests
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from web3 import HTTPProvider, Web3
from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier

from keeper.contracts import decode_revert, type_string


@dataclass
class RpcCounter:
    """Counts the RPC requests the keeper makes (a batch counts as one)."""

    calls: int = 0

    def add(self, n: int = 1) -> None:
        self.calls += n


@dataclass(frozen=True)
class CallResult:
    ok: bool
    value: Any  # decoded outputs (a tuple) when ok, else the decoded revert text


@dataclass(frozen=True)
class RawCall:
    """One eth_call with calldata already encoded, and the ABI types of its outputs."""

    to: str
    data: str
    output_types: tuple[str, ...]

    @classmethod
    def encode(
        cls, to: str, signature: str, args: Sequence[Any], input_types: Sequence[str], outputs: Sequence[str]
    ) -> RawCall:
        """`signature` as `name(type,...)`, e.g. `getHealthFactors(address[])`."""
        selector = _selector(signature)
        if all(t in _STATIC_WORDS for t in input_types):
            # Only addresses, uints and bools: the arguments are one 32-byte word each, in order
            # (what eth-abi produces, at a fraction of its cost for the hundreds of calls of a burst).
            body = "".join(_STATIC_WORDS[t](a) for t, a in zip(input_types, args, strict=True))
            return cls(to, "0x" + selector.hex() + body, tuple(outputs))
        return cls(to, "0x" + (selector + encode(list(input_types), list(args))).hex(), tuple(outputs))


def _address_word(value: str) -> str:
    body = value[2:] if value.startswith(("0x", "0X")) else value
    if len(body) != 40:
        raise ValueError(f"not an address: {value!r}")
    int(body, 16)  # raises on a non-hex digit
    return body.lower().rjust(64, "0")


def _uint256_word(value: int) -> str:
    if not 0 <= value < 2**256:
        raise ValueError(f"not a uint256: {value!r}")
    return f"{value:064x}"


def _bool_word(value: bool) -> str:
    return f"{int(bool(value)):064x}"


_STATIC_WORDS = {"address": _address_word, "uint256": _uint256_word, "bool": _bool_word}


@cache
def _selector(signature: str) -> bytes:
    return function_signature_to_4byte_selector(signature)


def _block_param(block: BlockIdentifier) -> str:
    return block if isinstance(block, str) else hex(int(block))


def _output_types(fn: ContractFunction) -> list[str]:
    return [type_string(o) for o in fn.abi["outputs"]]


def send_batch(w3: Web3, payload: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    """Sends (method, params) requests as one JSON-RPC batch (one by one where the provider has no
    batches); the raw responses in order, each with `result` or `error`."""
    provider: Any = w3.provider
    if hasattr(provider, "make_batch_request"):
        responses = provider.make_batch_request(list(payload))
        if not isinstance(responses, list):
            raise RuntimeError(f"batch request failed: {responses}")
        return responses
    return [provider.make_request(method, params) for method, params in payload]


def send_batch_within(
    w3: Web3, payload: Sequence[tuple[str, list[Any]]], timeout_s: float
) -> list[dict[str, Any]]:
    """`send_batch` with its own read timeout, where the provider in use for reads is HTTP (behind
    a failover: the endpoint in use); on other providers as `send_batch`."""
    provider: Any = w3.provider
    reads = getattr(provider, "reads", None)
    http = reads.current() if reads is not None else provider
    if not isinstance(http, HTTPProvider):
        return send_batch(w3, payload)
    headers = dict(http.get_request_kwargs()).get("headers")
    body = http.encode_batch_rpc_request(list(payload))  # type: ignore[arg-type]
    response = requests.post(str(http.endpoint_uri), data=body, headers=headers, timeout=timeout_s)
    response.raise_for_status()
    answers = http.decode_rpc_response(response.content)
    if not isinstance(answers, list):
        raise RuntimeError(f"batch request failed: {answers}")
    return sorted(answers, key=lambda answer: int(answer.get("id") or 0))


def error_reason(error: Any) -> str:
    """A JSON-RPC error as text: the decoded custom error when it carries revert data."""
    data = error.get("data") if isinstance(error, dict) else None
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str):
        return decode_revert(data)
    return str(error.get("message", error)) if isinstance(error, dict) else str(error)


def raw_call(fn: ContractFunction | RawCall) -> RawCall:
    """A web3 contract function as a RawCall (a RawCall as it is)."""
    if isinstance(fn, RawCall):
        return fn
    return RawCall(fn.address, fn._encode_transaction_data(), tuple(_output_types(fn)))


def call_many(
    w3: Web3, calls: Sequence[ContractFunction | RawCall], caller: str | None, block: BlockIdentifier
) -> list[CallResult]:
    """Runs every call at `block` in one batch request; results in order."""
    return call_each(w3, [(call, block) for call in calls], caller)


def call_each(
    w3: Web3, calls: Sequence[tuple[ContractFunction | RawCall, BlockIdentifier]], caller: str | None
) -> list[CallResult]:
    """Runs every call at its own block in one batch request; results in order."""
    if not calls:
        return []
    raws = [raw_call(c) for c, _ in calls]
    payload = []
    for call, (_, block) in zip(raws, calls, strict=True):
        tx: dict[str, Any] = {"to": call.to, "data": call.data}
        if caller:
            tx["from"] = caller
        payload.append(("eth_call", [tx, _block_param(block)]))
    results: list[CallResult] = []
    for call, response in zip(raws, send_batch(w3, payload), strict=True):
        if response.get("error"):
            results.append(CallResult(False, error_reason(response["error"])))
            continue
        raw = bytes.fromhex(str(response["result"])[2:])
        try:
            values = w3.codec.decode(list(call.output_types), raw)
        except Exception as exc:  # a node answering garbage
            results.append(CallResult(False, f"undecodable result: {type(exc).__name__}"))
            continue
        results.append(CallResult(True, values))
    return results
