"""Keeper stages without a node: configuration precedence, error decoding, node-error
classification, adaptive log chunking, percentiles and the store's reorg bookkeeping."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from eth_utils import function_signature_to_4byte_selector

from keeper.config import Secret, load_settings
from keeper.contracts import decode_revert
from keeper.discovery import Discovery
from keeper.dispatch import Fees, classify
from keeper.errors import ConfigError
from keeper.report import percentile
from keeper.rpc_batch import RpcCounter
from keeper.store import MINED, PENDING, Store, TxRecord


def test_flags_beat_environment_which_beats_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("MIN_PROFIT_USD=1\nMAX_GAS_GWEI=7\nDB_PATH=from-dotenv.db\n")
    settings = load_settings(
        {"min_profit_usd": "3"},
        environ={"MIN_PROFIT_USD": "2", "MAX_GAS_GWEI": "9"},
        dotenv_path=env_file,
    )
    assert settings.min_profit_usd == Decimal(3)
    assert settings.max_gas_gwei == Decimal(9)
    assert str(settings.db_path) == "from-dotenv.db"


def test_the_key_never_appears_in_settings_repr():
    settings = load_settings({"private_key": "0x" + "ab" * 32}, environ={}, dotenv_path=None)
    assert "ab" * 8 not in repr(settings)
    assert repr(Secret("x")) == "Secret('***')"


def test_bad_numbers_are_one_sentence():
    with pytest.raises(ConfigError, match="MIN_PROFIT_USD must be a number"):
        load_settings({"min_profit_usd": "lots"}, environ={}, dotenv_path=None)
    with pytest.raises(ConfigError, match=r"fee bump must be at least 1\.125"):
        load_settings({"fee_bump": "1.01"}, environ={}, dotenv_path=None)


def test_custom_errors_decode_by_name():
    selector = function_signature_to_4byte_selector("MustNotLeaveDust()")
    assert decode_revert(selector) == "MustNotLeaveDust()"
    selector = function_signature_to_4byte_selector("HealthFactorNotBelowThreshold(uint256)")
    assert decode_revert(selector + (10**18).to_bytes(32, "big")) == (
        "HealthFactorNotBelowThreshold(1000000000000000000)"
    )
    assert decode_revert("0xdeadbeef").startswith("unknown(")
    assert decode_revert(b"\x01") == "unknown(0x01)"


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("nonce too low: next nonce 5, tx nonce 4", "nonce_too_low"),
        ("replacement transaction underpriced", "replacement_underpriced"),
        ("already known", "already_known"),
        ("insufficient funds for gas * price + value", "insufficient_funds"),
        ("max fee per gas less than block base fee", "fee_below_base"),  # Anvil, geth
        ("fee cap less than block base fee", "fee_below_base"),  # older geth
        ("intrinsic gas too high", "other"),
    ],
)
def test_node_errors_are_classified(message, kind):
    assert classify(message) == kind


def test_a_replacement_raises_both_fees_by_at_least_12_5_percent():
    bumped = Fees(max_fee=1000, tip=100, legacy=False).bumped(Decimal("1.125"))
    assert bumped.max_fee >= 1125 and bumped.tip >= 113


class _Deployment:
    pool = "0x" + "11" * 20
    feeds: dict = {}


def test_log_ranges_halve_when_the_node_refuses_and_nothing_is_skipped():
    asked = []

    def get_logs(params):
        asked.append((params["fromBlock"], params["toBlock"]))
        if params["toBlock"] - params["fromBlock"] + 1 > 250:
            raise ValueError("query exceeds max block range 250")
        return []

    discovery = Discovery.__new__(Discovery)
    discovery.rpc = RpcCounter()
    discovery.addresses = []
    discovery.chunk = discovery.max_chunk = 1000
    discovery._get_logs = get_logs
    discovery.decode = lambda logs: __import__("keeper.discovery").discovery.ScanResult()
    discovery.scan(1, 1000)
    served = sorted(r for r in asked if r[1] - r[0] + 1 <= 250)
    covered = set()
    for start, end in served:
        covered |= set(range(start, end + 1))
    assert covered == set(range(1, 1001))


def test_percentiles_use_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([1, 2, 3, 4], 50) == 2
    assert percentile(list(range(1, 101)), 95) == 95


def test_signed_transactions_decode_back_to_target_calldata_and_value():
    from eth_account import Account

    from keeper.dispatch import decode_call

    account = Account.create()
    base = {"to": "0x" + "11" * 20, "data": "0xabcdef", "value": 5, "gas": 50_000, "nonce": 3, "chainId": 1}
    for fees in ({"gasPrice": 7}, {"maxFeePerGas": 9, "maxPriorityFeePerGas": 2, "type": 2}):
        raw = account.sign_transaction({**base, **fees}).raw_transaction.to_0x_hex()
        assert decode_call(raw) == ("0x" + "11" * 20, "0xabcdef", 5)


def test_a_log_that_does_not_decode_is_logged_and_skipped(caplog):
    from eth_utils import event_abi_to_log_topic
    from web3 import Web3

    from keeper.contracts import abi

    pool = "0x" + "22" * 20

    class Deployment:
        feeds: dict = {}

    Deployment.pool = Web3.to_checksum_address(pool)
    discovery = Discovery(Web3(), Deployment(), RpcCounter(), get_logs=lambda _p: [])
    borrow = next(i for i in abi("LendingPool") if i.get("type") == "event" and i["name"] == "Borrow")
    user = "0x" + "33" * 20
    good = {
        "address": pool,
        "topics": [
            event_abi_to_log_topic(borrow),
            bytes(32),
            bytes(12) + bytes.fromhex(user[2:]),
        ],
        "data": (5).to_bytes(32, "big") + (5).to_bytes(32, "big"),
        "blockNumber": 7,
        "blockHash": b"\x02" * 32,
        "logIndex": 0,
        "transactionIndex": 0,
        "transactionHash": b"\x01" * 32,
    }
    hostile = {**good, "data": b"\x00" * 7, "logIndex": 1}
    no_topics = {**good, "topics": [], "logIndex": 2}
    with caplog.at_level("WARNING"):
        result = discovery.decode([hostile, good, no_topics])
    assert result.undecodable == 2
    assert result.touched == {Web3.to_checksum_address(user)}
    assert caplog.text.count("log_undecodable") == 2


def test_a_liquidation_a_reorg_undid_is_recorded_once_however_it_lands_again(tmp_path):
    store = Store(tmp_path / "k.sqlite")
    intent = "liquidate:0xuser:0xcollateral:0xdebt"
    first = TxRecord("0x01", 4, "liquidate", intent, MINED, "0x", 1, 1, 1, sent_block=10, sent_ms=0)
    store.add_tx(replace(first, mined_block=11))
    assert store.save_liquidation(first.hash, {"inclusion_block": 11})

    assert store.rollback_to(10, "0xancestor") == [replace(first, status=PENDING)]  # mined_block None
    replacement = replace(first, hash="0x02", sent_block=12, mined_block=13)  # same nonce, higher fees
    store.add_tx(replacement)
    assert not store.save_liquidation(replacement.hash, {"inclusion_block": 13})
    assert store.liquidations() == [{"inclusion_block": 13}]

    later = replace(first, hash="0x03", nonce=5, mined_block=20)  # the same account, liquidated again
    store.add_tx(later)
    assert store.save_liquidation(later.hash, {"inclusion_block": 20})
    assert len(store.liquidations()) == 2


def test_static_calldata_is_encoded_exactly_as_eth_abi_does():
    import random

    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector

    from keeper.rpc_batch import RawCall

    signature = "liquidate(address,address,address,uint256,bool)"
    types = ["address", "address", "address", "uint256", "bool"]
    rng = random.Random(5)
    for _ in range(300):
        hex_digits = "0123456789abcdefABCDEF"
        addresses = ["0x" + "".join(rng.choice(hex_digits) for _ in range(40)) for _ in range(3)]
        amount = rng.choice([0, 1, 2**256 - 1, rng.getrandbits(rng.randint(1, 256))])
        args = [*addresses, amount, rng.random() < 0.5]
        expected = "0x" + (function_signature_to_4byte_selector(signature) + encode(types, args)).hex()
        assert RawCall.encode(addresses[0], signature, args, types, ()).data == expected


def test_static_calldata_rejects_what_is_not_an_address_or_a_uint256():
    import pytest

    from keeper.rpc_batch import RawCall

    with pytest.raises(ValueError):
        RawCall.encode("0x" + "00" * 20, "f(address)", ["0x1234"], ["address"], ())
    with pytest.raises(ValueError):
        RawCall.encode("0x" + "00" * 20, "f(uint256)", [-1], ["uint256"], ())
