"""A small fake JSON-RPC node for stage tests without a node: a web3.py provider (a real
`BaseProvider`, with `make_request` and `make_batch_request`) that answers each method from a
handler, so the keeper's stages run their real web3.py code above it. Every request is kept in
`requests`, in order, and every batch counted in `batches`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eth_abi import decode, encode
from eth_account.typed_transactions import TypedTransaction
from eth_utils import function_signature_to_4byte_selector
from hexbytes import HexBytes
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

    def call_args(self, fn: Function) -> list[list[Any]]:
        """The decoded arguments of every `eth_call` of `fn`, in order."""
        selector = "0x" + function_signature_to_4byte_selector(fn.signature).hex()
        return [
            [
                _checksummed(t, a)
                for t, a in zip(
                    fn.input_types,
                    decode(list(fn.input_types), bytes.fromhex(p[0]["data"][10:])),
                    strict=True,
                )
            ]
            for p in self.calls_of("eth_call")
            if p[0]["data"].startswith(selector)
        ]

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
        args = [
            _checksummed(t, a)
            for t, a in zip(fn.input_types, decode(list(fn.input_types), data[4:]), strict=True)
        ]
        return "0x" + encode(list(fn.output_types), list(answer(*args))).hex()


def _checksummed(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return Web3.to_checksum_address(value)
    if abi_type == "address[]":
        return [Web3.to_checksum_address(v) for v in value]
    return value


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


GWEI = 10**9


class Mempool:
    """One sender's view of a node: pending and confirmed nonces, a base fee, the transactions it
    took (decoded), and refusals scripted as `refuse(tx) -> message | None`."""

    def __init__(self, sender: str, base_fee: int | None = 10 * GWEI, balance: int = 10**20):
        self.sender = sender
        self.pending_nonce = 7
        self.confirmed_nonce = 7
        self.head = 10
        self.base_fee = base_fee
        self.gas_price = 3 * GWEI
        self.balance = balance
        self.taken: list[dict[str, Any]] = []
        self.raws: list[str] = []
        self.mined: dict[str, int] = {}  # hash -> block
        self.refuse: Callable[[dict[str, Any]], str | None] = lambda tx: None

    def handlers(self) -> dict:
        def count(params: list) -> str:
            return hex(self.pending_nonce if params[1] == "pending" else self.confirmed_nonce)

        def get_block(params: list) -> dict:
            number = self.head if params[0] == "latest" else int(params[0], 16)
            b = block(number, base_fee=self.base_fee or 0)
            if self.base_fee is None:
                del b["baseFeePerGas"]
            return b

        def send(params: list) -> str:
            raw = params[0]
            if raw in self.raws:
                raise RpcError("already known")
            tx = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
            tx["hash"] = Web3.to_hex(Web3.keccak(HexBytes(raw)))
            message = self.refuse(tx)
            if message is not None:
                raise RpcError(message)
            self.taken.append(tx)
            self.raws.append(raw)
            self.pending_nonce = max(self.pending_nonce, tx["nonce"] + 1)
            return tx["hash"]

        def receipt(params: list) -> dict | None:
            mined = self.mined.get(params[0])
            if mined is None:
                return None
            return {
                "transactionHash": params[0],
                "transactionIndex": "0x0",
                "blockHash": block(mined)["hash"],
                "blockNumber": hex(mined),
                "from": self.sender,
                "to": self.sender,
                "cumulativeGasUsed": hex(50_000),
                "gasUsed": hex(50_000),
                "effectiveGasPrice": hex(11 * GWEI),
                "contractAddress": None,
                "logs": [],
                "logsBloom": "0x" + "00" * 256,
                "status": "0x1",
                "type": "0x2",
            }

        return {
            "eth_getTransactionCount": count,
            "eth_getBlockByNumber": get_block,
            "eth_gasPrice": lambda params: hex(self.gas_price),
            "eth_sendRawTransaction": send,
            "eth_getTransactionReceipt": receipt,
            "eth_getTransactionByHash": lambda params: {"hash": params[0]},
            "eth_getBalance": lambda params: hex(self.balance),
        }
