"""Call and event encodings derived once from the ABIs the keeper ships (keeper/abi/*.json), by
contract and name: the signature, the input and output types, and the struct field names.

Every call the keeper encodes itself (previews, liquidations, lens reads, account reads) takes its
types from here and its calldata from `RawCall.encode`, the fast static-word encoder; so a field
added to a struct in the contracts changes the decoded types instead of decoding as garbage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic

from keeper.contracts import abi, type_string
from keeper.rpc_batch import RawCall


@dataclass(frozen=True)
class Function:
    """One contract function as the ABI declares it."""

    contract: str
    name: str
    signature: str  # name(type,...), e.g. `getHealthFactors(address[])`
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    outputs: tuple[dict[str, Any], ...]  # the ABI's output entries, for field names

    def call(self, to: str, *args: Any) -> RawCall:
        """An `eth_call`/transaction to `to` with these arguments, and the types to decode it by."""
        return RawCall.encode(to, self.signature, args, self.input_types, self.output_types)

    def field_names(self, output: int = 0) -> tuple[str, ...]:
        """The component names of a struct output, in ABI order."""
        return tuple(c["name"] for c in self.outputs[output]["components"])


@dataclass(frozen=True)
class Event:
    """One event as the ABI declares it: its topic, and its indexed and data arguments by name."""

    contract: str
    name: str
    topic: bytes
    indexed: tuple[str, ...]
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]

    def decode_data(self, data: bytes) -> dict[str, Any]:
        """The non-indexed arguments of a log of this event, by name."""
        return dict(zip(self.data_names, abi_decode(list(self.data_types), data), strict=True))


class AbiMismatch(LookupError):
    """The shipped ABI lacks the function or event the keeper asks for, or declares it twice."""


def _entry(contract: str, kind: str, name: str) -> dict[str, Any]:
    found = [i for i in abi(contract) if i.get("type") == kind and i.get("name") == name]
    if len(found) != 1:
        raise AbiMismatch(f"keeper/abi/{contract}.json has {len(found)} {kind}s named {name}, expected one")
    return found[0]


@cache
def function(contract: str, name: str) -> Function:
    """The function `name` of `contract` (e.g. `function("LendingPool", "liquidate")`)."""
    item = _entry(contract, "function", name)
    inputs = tuple(type_string(i) for i in item["inputs"])
    return Function(
        contract=contract,
        name=name,
        signature=f"{name}({','.join(inputs)})",
        input_types=inputs,
        output_types=tuple(type_string(o) for o in item["outputs"]),
        outputs=tuple(item["outputs"]),
    )


@cache
def event(contract: str, name: str) -> Event:
    """The event `name` of `contract` (e.g. `event("LendingPool", "LiquidationCall")`)."""
    item = _entry(contract, "event", name)
    data = [i for i in item["inputs"] if not i["indexed"]]
    return Event(
        contract=contract,
        name=name,
        topic=event_abi_to_log_topic(item),
        indexed=tuple(i["name"] for i in item["inputs"] if i["indexed"]),
        data_names=tuple(i["name"] for i in data),
        data_types=tuple(type_string(i) for i in data),
    )


def by_name(names: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    """A decoded struct as a dict of its fields."""
    return dict(zip(names, values, strict=True))
