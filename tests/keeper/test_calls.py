"""The calls the keeper encodes itself take their types from the shipped ABIs (keeper.calls): the
derived signatures and types equal what eth-utils and web3.py derive from the same JSON, the fast
encoder produces web3.py's calldata, and the dataclasses the keeper decodes into name the ABI's
struct fields in the ABI's order."""

from __future__ import annotations

from dataclasses import fields

import pytest
from eth_abi import encode
from eth_utils.abi import abi_to_signature, get_abi_input_types, get_abi_output_types
from web3 import Web3

from keeper.calls import AbiMismatch, event, function
from keeper.contracts import abi
from keeper.strategy import Preview

#: Every call the keeper encodes with `keeper.calls`, with sample arguments.
A, B, C = ("0x" + "11" * 20, "0x" + "2b" * 20, "0x" + "C3" * 20)
CALLS = [
    ("LendingPool", "liquidate", [A, B, C, 2**256 - 1, False]),
    ("LendingPool", "previewLiquidation", [A, B, C, 2**256 - 1]),
    ("LendingPool", "getReserveData", [A]),
    ("LendingPool", "getUserAccountData", [A]),
    ("LendingPool", "getUserPosition", [A, B]),
    ("LiquidationLens", "getPositions", [[A, B, C]]),
    ("LiquidationLens", "getHealthFactors", [[A, B]]),
]


def _abi_entry(contract: str, name: str) -> dict:
    [entry] = [i for i in abi(contract) if i.get("type") == "function" and i["name"] == name]
    return entry


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


@pytest.mark.parametrize(("contract", "name", "args"), CALLS, ids=[c[1] for c in CALLS])
def test_derived_types_equal_the_abi(contract, name, args):
    derived = function(contract, name)
    entry = _abi_entry(contract, name)
    assert derived.signature == abi_to_signature(entry)
    assert list(derived.input_types) == get_abi_input_types(entry)
    assert list(derived.output_types) == get_abi_output_types(entry)


@pytest.mark.parametrize(("contract", "name", "args"), CALLS, ids=[c[1] for c in CALLS])
def test_encoded_calldata_equals_web3s(contract, name, args):
    web3_contract = Web3().eth.contract(abi=abi(contract))
    checksummed = [
        [Web3.to_checksum_address(a) for a in arg] if isinstance(arg, list) else arg for arg in args
    ]
    checksummed = [Web3.to_checksum_address(a) if isinstance(a, str) else a for a in checksummed]
    expected = web3_contract.encode_abi(name, checksummed)
    assert function(contract, name).call(A, *args).data == expected


def test_the_calls_the_keeper_typed_by_hand_before_are_unchanged():
    assert function("LendingPool", "liquidate").signature == "liquidate(address,address,address,uint256,bool)"
    assert function("LendingPool", "liquidate").output_types == ("uint256", "uint256")
    assert function("LendingPool", "previewLiquidation").output_types == (
        "(uint256,uint256,uint256,uint256,uint256,uint256,bool)",
    )
    assert function("LendingPool", "getUserAccountData").output_types == ("uint256",) * 6
    assert function("LendingPool", "getUserPosition").output_types == ("uint256", "uint256", "bool")
    assert function("LiquidationLens", "getPositions").output_types == (
        "uint256[]",
        "uint256[][]",
        "uint256[][]",
    )


def test_the_preview_dataclass_names_the_struct_fields_in_abi_order():
    names = function("LendingPool", "previewLiquidation").field_names()
    assert [f.name for f in fields(Preview)] == [_snake(n) for n in names]


def test_the_fields_the_reader_takes_from_reserve_data_exist():
    names = set(function("LendingPool", "getReserveData").field_names())
    wanted = {"config", "id", "decimals", "borrowIndex", "cash", "totalSupplyShares", "totalDrawnShares"}
    assert wanted | {"totalAddedAssets", "deficit", "price"} <= names


def test_event_data_decodes_by_abi_name():
    liquidation = event("LendingPool", "LiquidationCall")
    assert liquidation.indexed == ("collateralAsset", "debtAsset", "user")
    values = [Web3.to_checksum_address(C), 1, 2, 3, 10_500, 10**18 - 1, True]
    decoded = liquidation.decode_data(encode(list(liquidation.data_types), values))
    assert decoded == {
        "liquidator": C.lower(),  # eth-abi's address form; the recorder checksums it
        "debtRepaid": 1,
        "collateralSeized": 2,
        "protocolFee": 3,
        "liquidationBonus": 10_500,
        "healthFactorBefore": 10**18 - 1,
        "receiveShares": True,
    }
    assert event("LendingPool", "DeficitReported").data_names == ("amount",)


def test_a_function_the_abi_lacks_is_named():
    with pytest.raises(AbiMismatch, match=r"LendingPool\.json has 0 functions named nope"):
        function("LendingPool", "nope")
