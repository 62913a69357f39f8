"""The recorder's arithmetic: an execution-quality record computed by hand from a receipt's
LiquidationCall, the account after, the oracle prices of the inclusion block, and the detection stored
with the transaction; a flash liquidation's fill against the oracle at the trigger and at inclusion;
the reads batched per block; a liquidation recorded once however often it lands; a lost one names the
winner."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fake_node import Contracts, RpcError, block, fake_web3
from hexbytes import HexBytes
from stage_world import ALICE, BOB, LENS, ORACLE, POOL, USDC, WAD, WETH, borrower, log, pool_model
from web3.datastructures import AttributeDict

from keeper.calls import function
from keeper.contracts import Contracts as PoolContracts
from keeper.execution_records import (
    Detection,
    Fill,
    RecordPrices,
    build_record,
    detection_from_json,
    detection_json,
    detection_key,
)
from keeper.metrics import Metrics
from keeper.recorder import Recorder
from keeper.store import MINED, Store, TxRecord
from keeper.transactions import Finished

INTENT = f"liquidate:{ALICE}:{WETH}:{USDC}"
GWEI = 10**9


def detection(**changes) -> Detection:
    fields = {
        "user": ALICE,
        "collateral": WETH,
        "debt": USDC,
        "trigger_asset": WETH,
        "trigger_block": 100,
        "trigger_price": 2000 * 10**8,
        "trigger_seen_ms": 3_000,
        "trigger_block_ts": 1_000,
        "detect_block": 100,
        "detect_ms": 3_000,
        "submit_block": 100,
        "submit_ms": 3_500,
        "health_factor": 97 * WAD // 100,
        "expected_profit_usd": "41",
        "reason": "profitable",
    }
    return Detection(**{**fields, **changes})


EVENT = {
    "liquidator": BOB,
    "debtRepaid": 1000 * 10**6,
    "collateralSeized": 525 * 10**15,  # 0.525 WETH: $1,050 for $1,000 at a 5% bonus
    "protocolFee": 25 * 10**14,  # 10% of the bonus part
    "liquidationBonus": 10_500,
    "healthFactorBefore": 97 * WAD // 100,
    "receiveShares": False,
}
RECEIPT = {"blockNumber": 101, "gasUsed": 200_000, "effectiveGasPrice": 10 * GWEI, "status": 1}


def test_a_liquidations_record_adds_up_to_the_cent():
    model = pool_model()
    record = build_record(
        tx_hash="0x01",
        detection=detection(),
        event=EVENT,
        receipt=RECEIPT,
        block_ts_ms=1_012_000,
        receipt_seen_ms=5_000,
        collateral=model.by_asset[WETH],
        debt=model.by_asset[USDC],
        prices=RecordPrices(2000 * 10**8, 10**8, 2000 * 10**8),
        hf_after=106 * WAD // 100,
        target_hf=105 * WAD // 100,
        debt_left=2000 * 10**6,
        collateral_left=9475 * 10**15,
        deficits_usd=0.0,
        native_price_usd=Decimal(2000),
        winner=None,
    )
    assert record.outcome == "liquidated" and record.liquidator == BOB
    usd = (record.debt_repaid_usd, record.collateral_seized_usd, record.bonus_usd)
    assert usd == pytest.approx((1000.0, 1050.0, 50.0), abs=1e-9)  # floats of exact integer values
    assert (record.gas_cost_wei, record.gas_cost_usd) == (2 * 10**15, 4.0)
    assert record.liquidator_profit_usd == pytest.approx(1045.0 - 1000.0 - 4.0)  # 0.5225 WETH received
    assert record.effective_price == pytest.approx(1000.0 / 0.5225)
    assert (record.method, record.fill_price_usd, record.collateral_sold) == ("inventory", None, None)
    assert (record.delay_blocks, record.delay_chain_ms, record.delay_wall_ms, record.detect_latency_ms) == (
        1,
        12_000,
        2_000,
        500,
    )
    assert (record.reached_target, record.cleared_dust, record.deficit_reported) == (True, False, False)


def test_a_liquidation_someone_else_made_first_is_lost_to_the_winner():
    model = pool_model()
    record = build_record(
        tx_hash="0x01",
        detection=detection(),
        event=None,
        receipt={**RECEIPT, "status": 0, "gasUsed": 50_000},
        block_ts_ms=1_012_000,
        receipt_seen_ms=5_000,
        collateral=model.by_asset[WETH],
        debt=model.by_asset[USDC],
        prices=RecordPrices(2000 * 10**8, 10**8, None),
        hf_after=2 * WAD,
        target_hf=105 * WAD // 100,
        debt_left=0,
        collateral_left=0,
        deficits_usd=0.0,
        native_price_usd=Decimal(2000),
        winner=BOB,
    )
    assert (record.outcome, record.winner, record.debt_repaid, record.bonus_bps) == ("lost", BOB, 0, 0)
    assert record.hf_before == 97 * WAD // 100  # what the keeper saw
    assert record.liquidator_profit_usd == -1.0  # 50k gas at 10 gwei and $2,000


def test_every_usd_figure_is_at_the_price_the_liquidation_executed_at_not_the_models():
    model = pool_model()  # the model last read WETH at $2,000: a lagging keeper's view
    # 1,000 USDC repaid for 0.65625 WETH at a 5% bonus: the pool priced WETH at $1,600; an update later
    # in the same block left the oracle at $1,500.
    executed = {**EVENT, "collateralSeized": 65625 * 10**13, "protocolFee": 3125 * 10**12}
    record = build_record(
        tx_hash="0x01",
        detection=detection(),
        event=executed,
        receipt=RECEIPT,
        block_ts_ms=1_012_000,
        receipt_seen_ms=5_000,
        collateral=model.by_asset[WETH],
        debt=model.by_asset[USDC],
        prices=RecordPrices(1500 * 10**8, 10**8, 2000 * 10**8),
        hf_after=106 * WAD // 100,
        target_hf=105 * WAD // 100,
        debt_left=2000 * 10**6,
        collateral_left=934375 * 10**13,
        deficits_usd=0.0,
        native_price_usd=Decimal(1600),
        winner=None,
    )
    assert (record.collateral_seized_usd, record.bonus_usd) == pytest.approx((1050.0, 50.0))
    assert record.oracle_price == 1600 * 10**8 and record.oracle_price_at_trigger == 2000 * 10**8


def test_a_flash_liquidations_fill_is_measured_against_the_oracle_at_trigger_and_inclusion():
    model = pool_model()
    # 0.52 WETH sold for the 1,000 USDC repaid: a fill at $1,923.08 against the $2,000 the liquidation
    # executed at and $2,100 when the account became liquidatable; 0.0025 WETH of the 0.5225 received
    # is left as profit.
    fill = Fill(
        debt_bought=1000 * 10**6,
        collateral_received=5225 * 10**14,
        collateral_sold=52 * 10**16,
        profit=25 * 10**14,
    )
    record = build_record(
        tx_hash="0x01",
        detection=detection(method="flash", route="WETH -> (0.05%) USDC", pool_fee_ppm=500),
        event=EVENT,
        receipt=RECEIPT,
        block_ts_ms=1_012_000,
        receipt_seen_ms=5_000,
        collateral=model.by_asset[WETH],
        debt=model.by_asset[USDC],
        prices=RecordPrices(1950 * 10**8, 10**8, 2100 * 10**8),
        hf_after=106 * WAD // 100,
        target_hf=105 * WAD // 100,
        debt_left=2000 * 10**6,
        collateral_left=9475 * 10**15,
        deficits_usd=0.0,
        native_price_usd=Decimal(2000),
        winner=None,
        fill=fill,
    )
    assert record.fill_price_usd == pytest.approx(1000 / 0.52)
    assert record.fill_vs_trigger_bps == pytest.approx((2100 - 1000 / 0.52) / 2100 * 1e4)
    assert record.fill_vs_inclusion_bps == pytest.approx((2000 - 1000 / 0.52) / 2000 * 1e4)
    assert (record.collateral_sold, record.debt_bought, record.net_profit_tokens) == (
        52 * 10**16,
        1000 * 10**6,
        25 * 10**14,
    )
    assert record.net_profit_usd == pytest.approx(0.0025 * 2000 - 4.0)  # gas: 200k at 10 gwei, $2,000
    assert record.liquidator_profit_usd == record.net_profit_usd
    assert (record.method, record.route, record.pool_fee_ppm) == ("flash", "WETH -> (0.05%) USDC", 500)


def receipt_with_logs() -> AttributeDict:
    entry = log(
        "LendingPool",
        "LiquidationCall",
        POOL,
        101,
        0,
        collateralAsset=WETH,
        debtAsset=USDC,
        user=ALICE,
        **EVENT,
    )
    deficit = log("LendingPool", "DeficitReported", POOL, 101, 1, user=ALICE, asset=USDC, amount=5 * 10**6)
    logs = [
        {"address": e["address"], "topics": [HexBytes(t) for t in e["topics"]], "data": HexBytes(e["data"])}
        for e in (entry, deficit)
    ]
    return AttributeDict.recursive({**RECEIPT, "logs": logs})


def test_the_recorder_reads_the_account_per_block_in_batches_and_records_once(tmp_path):
    positions = {  # (block, asset) -> (supplied, debt, collateral)
        (100, WETH): (10 * 10**18, 0, True),
        (100, USDC): (0, 3000 * 10**6, False),
        (101, WETH): (9475 * 10**15, 0, True),
        (101, USDC): (0, 2000 * 10**6, False),
    }
    at_block: list[int] = []
    contracts = Contracts()
    contracts.on(
        POOL, function("LendingPool", "getUserAccountData"), lambda user: (0, 0, 106 * WAD // 100, 0, 1, 1)
    )
    contracts.on(
        POOL, function("LendingPool", "getUserPosition"), lambda user, asset: positions[(at_block[-1], asset)]
    )
    prices = {(100, WETH): 2000 * 10**8, (101, WETH): 1900 * 10**8, (101, USDC): 10**8}
    contracts.on(ORACLE, function("PriceOracle", "getPrice"), lambda asset: (prices[(at_block[-1], asset)],))

    def eth_call(params: list) -> str:
        at_block.append(int(params[1], 16))
        return contracts(params)

    w3 = fake_web3(
        {
            "eth_call": eth_call,
            "eth_getBlockByNumber": lambda params: block(int(params[0], 16), timestamp=1_012),
        }
    )
    store, metrics = Store(tmp_path / "k.sqlite"), Metrics()
    recorder = Recorder(w3, PoolContracts.at(w3, POOL, ORACLE, LENS), store, metrics)
    tx = TxRecord("0x01", 3, "liquidate", INTENT, MINED, "0x", 1, 1, 1, 100, 0, mined_block=101)
    store.add_tx(tx)
    store.set_meta(detection_key(INTENT), detection_json(detection()))  # as the dispatch stored it
    model = pool_model(borrower(ALICE, {0: 10**18}, {2: 10**6}))

    recorder.record([Finished(tx, receipt_with_logs(), 5_000)], model, 101, {}, Decimal(2000))
    recorder.record([Finished(tx, receipt_with_logs(), 5_000)], model, 101, {}, Decimal(2000))  # lands again

    [saved] = store.liquidations()
    assert (saved["outcome"], saved["debt_repaid"], saved["hf_after"]) == (
        "liquidated",
        1000 * 10**6,
        106 * WAD // 100,
    )
    # The liquidation executed at $2,000 (its amounts say so) though the block ended at $1,900.
    assert (saved["oracle_price"], saved["oracle_price_at_trigger"]) == (2000 * 10**8, 2000 * 10**8)
    assert saved["collateral_seized_usd"] == pytest.approx(0.525 * 2000)
    assert (saved["deficit_reported"], saved["deficit_usd"]) == (True, 5.0)
    assert saved["delay_chain_ms"] == 12_000 and saved["detect_latency_ms"] == 500
    assert sorted(set(at_block)) == [100, 101]
    assert w3.provider.batches == 2 * 3  # per record: one batch per block read, one for the timestamps
    assert b'liqkeeper_liquidations_total{outcome="liquidated"} 1.0' in metrics.exposition()


def test_a_liquidation_whose_account_cannot_be_valued_after_its_block_is_recorded_all_the_same(tmp_path):
    """The liquidation ran, but a later transaction of its block (a WETH update to $1,400 the TWAP
    guard's breaker refuses) left WETH unpriced: the health factor cannot be read at the inclusion
    block, the positions can. The record is kept, its health factor after unknown, WETH valued at the
    price the liquidation executed at (its amounts imply $2,000), the trigger block's WETH at its primary
    feed's answer there (as the observer values it) and USDC at the oracle's price."""
    positions = {WETH: (9475 * 10**15, 0, True), USDC: (0, 2000 * 10**6, False)}
    weth_feed, usdc_feed = "0x" + "f1" * 20, "0x" + "f2" * 20
    deviation = RpcError("execution reverted: PriceDeviation", 3)
    contracts = Contracts()
    contracts.on(POOL, function("LendingPool", "getUserAccountData"), lambda user: _raise(deviation))
    contracts.on(POOL, function("LendingPool", "getUserPosition"), lambda user, asset: positions[asset])
    contracts.on(
        ORACLE,
        function("PriceOracle", "getPrice"),
        lambda asset: (10**8,) if asset == USDC else _raise(deviation),
    )
    feeds = {WETH: (weth_feed, 3600, 8), USDC: (usdc_feed, 3600, 8)}
    contracts.on(ORACLE, function("PriceOracle", "getFeed"), lambda asset: feeds[asset])
    contracts.on(
        weth_feed, function("MockPriceFeed", "latestRoundData"), lambda: (7, 1400 * 10**8, 0, 1_012, 7)
    )
    w3 = fake_web3(
        {"eth_call": contracts, "eth_getBlockByNumber": lambda params: block(101, timestamp=1_012)}
    )
    store = Store(tmp_path / "k.sqlite")
    recorder = Recorder(w3, PoolContracts.at(w3, POOL, ORACLE, LENS), store, Metrics())
    tx = TxRecord("0x01", 3, "liquidate", INTENT, MINED, "0x", 1, 1, 1, 100, 0, mined_block=101)
    store.add_tx(tx)
    store.set_meta(detection_key(INTENT), detection_json(detection()))
    model = pool_model(borrower(ALICE, {0: 10**18}, {2: 10**6}), WETH=0)  # the keeper could not price it

    recorder.record([Finished(tx, receipt_with_logs(), 5_000)], model, 101, {}, Decimal(2000))

    [saved] = store.liquidations()
    assert (saved["outcome"], saved["debt_repaid"], saved["hf_after"], saved["reached_target"]) == (
        "liquidated",
        1000 * 10**6,
        None,
        False,
    )
    assert (saved["oracle_price"], saved["oracle_price_at_trigger"]) == (2000 * 10**8, 1400 * 10**8)
    assert saved["collateral_seized_usd"] == pytest.approx(0.525 * 2000)
    assert saved["debt_repaid_usd"] == pytest.approx(1000.0)


def _raise(error: Exception) -> tuple:
    raise error


def test_a_stored_detection_reads_back_as_it_was():
    assert detection_from_json(detection_json(detection())) == detection()
    assert detection_from_json(None) is None
