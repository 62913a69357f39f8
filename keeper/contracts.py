"""The protocol's ABIs (shipped in keeper/abi/) and decoding of revert data by error name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3
from web3.contract import Contract

ABI_NAMES = ("LendingPool", "PriceOracle", "LiquidationLens", "MockPriceFeed", "MockERC20", "FlashLiquidator")


@cache
def abi(name: str) -> list[dict[str, Any]]:
    """The ABI of one of the protocol's contracts."""
    text = resources.files("keeper").joinpath("abi", f"{name}.json").read_text()
    return json.loads(text)


@dataclass(frozen=True)
class Contracts:
    """web3 contract objects for one deployment."""

    pool: Contract
    oracle: Contract
    lens: Contract

    @classmethod
    def at(cls, w3: Web3, pool: str, oracle: str, lens: str) -> Contracts:
        return cls(
            pool=w3.eth.contract(address=Web3.to_checksum_address(pool), abi=abi("LendingPool")),
            oracle=w3.eth.contract(address=Web3.to_checksum_address(oracle), abi=abi("PriceOracle")),
            lens=w3.eth.contract(address=Web3.to_checksum_address(lens), abi=abi("LiquidationLens")),
        )


def erc20(w3: Web3, address: str) -> Contract:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi("MockERC20"))


def flash_liquidator(w3: Web3, address: str) -> Contract:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi("FlashLiquidator"))


def feed(w3: Web3, address: str) -> Contract:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi("MockPriceFeed"))


def _signature(item: dict[str, Any]) -> str:
    types = ",".join(type_string(i) for i in item["inputs"])
    return f"{item['name']}({types})"


def type_string(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(type_string(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return item["type"]


@cache
def _error_table() -> dict[bytes, tuple[str, list[str]]]:
    table: dict[bytes, tuple[str, list[str]]] = {
        function_signature_to_4byte_selector("Error(string)"): ("Error", ["string"]),
        function_signature_to_4byte_selector("Panic(uint256)"): ("Panic", ["uint256"]),
    }
    for name in ABI_NAMES:
        for item in abi(name):
            if item.get("type") == "error":
                selector = function_signature_to_4byte_selector(_signature(item))
                table[selector] = (item["name"], [type_string(i) for i in item["inputs"]])
    return table


def decode_revert(data: bytes | str | None) -> str:
    """Revert data as `Name(arg, ...)`: `MustNotLeaveDust()`, `Error('text')`, `Panic(17)`.
    Unknown or malformed data comes back as `unknown(0x...)`."""
    if data is None:
        return "unknown()"
    if isinstance(data, str):
        text = data[2:] if data.startswith("0x") else data
        try:
            data = bytes.fromhex(text)
        except ValueError:
            return f"unknown({data})"
    if len(data) < 4:
        return f"unknown(0x{data.hex()})"
    entry = _error_table().get(data[:4])
    if entry is None:
        return f"unknown(0x{data.hex()})"
    name, types = entry
    try:
        values = abi_decode(types, data[4:]) if types else ()
    except Exception:
        return f"{name}(<undecodable>)"
    return f"{name}({', '.join(repr(v) for v in values)})"
