"""A small fake JSON-RPC node for stage tests without a node: a web3.py provider (a real
`BaseProvider`, with `make_request` and `make_batch_request`) that answers each method from a
handler, so the keeper's stages run their real web3.py code above it. Every request is kept in
`requests`, in order, and every batch counted in `batches`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3
from web3.providers.base import BaseProvider

from keeper.calls import Function

Handler = Callable[[list[Any]], Any]


class RpcError(Exception):
    """Raised by a handler to answer with a JSON-RPC error."""

    def __init__(self, message: str, code: int = -32000, data: str | None = None):
        super().__init__(message)
        self.message, self.code, self.data = message, code, data


class FakeProvider(BaseProvider):
    def __init__(self, handlers: dict[str, Handler | Any] | None = None):
        super().__init__()
        self.handlers: dict[str, Handler | Any] = dict(handlers or {})
        self.requests: list[tuple[str, list[Any]]] = []
        self.batches = 0

    def make_request(self, method: Any, params: Any) -> Any:
        return self._answer(str(method), list(params or []))

    def make_batch_request(self, requests: Sequence[tuple[Any, Any]]) -> list[Any]:
        self.batches += 1
        return [self._answer(str(method), list(params or [])) for method, params in requests]

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True

    def calls_of(self, method: str) -> list[list[Any]]:
        return [params for m, params in self.requests if m == method]

    def _answer(self, method: str, params: list[Any]) -> dict[str, Any]:
        self.requests.append((method, params))
        handler = self.handlers.get(method)
        if handler is None:
            return {
                "jsonrpc": "2.0",
                "id": 1,
                "error": {"code": -32601, "message": f"no handler for {method}"},
            }
        try:
            result = handler(params) if callable(handler) else handler
        except RpcError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.data is not None:
                error["data"] = exc.data
            return {"jsonrpc": "2.0", "id": 1, "error": error}
        return {"jsonrpc": "2.0", "id": 1, "result": result}


def fake_web3(handlers: dict[str, Handler | Any] | None = None, chain_id: int = 31337) -> Web3:
    provider = FakeProvider({"eth_chainId": hex(chain_id), **(handlers or {})})
    return Web3(provider)


class Contracts:
    """Answers `eth_call`s by target address and function: `on(address, fn, answer)` where
    `answer(*decoded_args)` returns the function's outputs as a tuple (or raises RpcError)."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, bytes], tuple[Function, Callable[..., tuple]]] = {}

    def on(self, address: str, fn: Function, answer: Callable[..., tuple]) -> None:
        selector = function_signature_to_4byte_selector(fn.signature)
        self._answers[(address.lower(), selector)] = (fn, answer)

    def __call__(self, params: list[Any]) -> str:
        tx = params[0]
        data = bytes.fromhex(tx["data"][2:])
        entry = self._answers.get((tx["to"].lower(), data[:4]))
        if entry is None:
            raise RpcError(f"execution reverted: no fake for {tx['to']} {data[:4].hex()}")
        fn, answer = entry
        args = decode(list(fn.input_types), data[4:])
        return "0x" + encode(list(fn.output_types), list(answer(*args))).hex()


def block(number: int, *, parent: str | None = None, block_hash: str | None = None, **fields: Any) -> dict:
    """A block as a node returns it; hashes default to ones derived from the number."""
    return {
        "number": hex(number),
        "hash": block_hash or block_hash_for(number),
        "parentHash": parent or block_hash_for(number - 1),
        "timestamp": hex(fields.pop("timestamp", 1_700_000_000 + 12 * number)),
        "baseFeePerGas": hex(fields.pop("base_fee", 10**9)),
        "gasLimit": hex(30_000_000),
        "gasUsed": "0x0",
        "miner": "0x" + "00" * 20,
        "extraData": "0x",
        "logsBloom": "0x" + "00" * 256,
        "transactions": [],
        **fields,
    }


def block_hash_for(number: int, fork: str = "") -> str:
    return Web3.to_hex(Web3.keccak(text=f"block {number}{fork}"))
