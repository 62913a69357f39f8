"""The liquidation stage against a fake node: the gates in order (profit, in flight, debt token,
simulation), simulation and dispatch in chunks so the best leave first, and each liquidation's
detection stored with its transaction."""

from __future__ import annotations

from decimal import Decimal

from eth_account import Account
from eth_utils import function_signature_to_4byte_selector
from fake_node import Contracts, Mempool, RpcError, fake_web3
from stage_world import ALICE, BOB, CAROL, POOL, USDC, WAD, WETH, address, borrower, pool_model

from keeper.blocks import BlockContext
from keeper.calls import function
from keeper.discovery import ScanResult
from keeper.dispatch import Dispatcher
from keeper.execution_records import detection_from_json, detection_key
from keeper.liquidation import Liquidator
from keeper.metrics import Metrics
from keeper.rpc_batch import RpcCounter
from keeper.simulation import Simulator
from keeper.store import PENDING, Store, TxRecord
from keeper.strategy import Decision, Opportunity, Preview, Ranking
from keeper.transactions import Fees
from keeper.wallet import Wallet

KEY = "0x" + "5c" * 32
KEEPER = Account.from_key(KEY).address
LIQUIDATE = function("LendingPool", "liquidate")
GWEI = 10**9


class World:
    def __init__(self, tmp_path, *, usdc_balance: int = 10**15, dry_run: bool = False):
        self.reverting: dict[str, str] = {}
        self.node = Mempool(KEEPER)
        contracts = Contracts()
        contracts.on(POOL, LIQUIDATE, self._liquidate)
        contracts.on(USDC, function("MockERC20", "balanceOf"), lambda owner: (usdc_balance,))
        handlers = {**self.node.handlers(), "eth_call": contracts, "eth_estimateGas": self._estimate}
        self.w3 = fake_web3(handlers)
        rpc, metrics = RpcCounter(), Metrics()
        self.wallet = Wallet(self.w3, KEEPER, metrics, rpc, Decimal("0.05"))
        self.store = Store(tmp_path / "k.sqlite")
        self.dispatcher = Dispatcher(
            self.w3,
            Account.from_key(KEY),
            self.store,
            rpc,
            self.wallet,
            max_gas_gwei=Decimal(500),
            fee_bump=Decimal("1.125"),
            replace_after_blocks=3,
            dry_run=dry_run,
            gas_limit_liquidation=600_000,
            clock=lambda: 2.0,
        )
        self.liquidator = Liquidator(
            POOL, KEEPER, Simulator(self.w3, rpc), self.dispatcher, self.wallet, metrics
        )

    def _liquidate(self, collateral, debt, user, cover, receive):
        reason = self.reverting.get(user)
        if reason:
            raise RpcError(
                "execution reverted", code=3, data="0x" + function_signature_to_4byte_selector(reason).hex()
            )
        return (1, 1)

    def _estimate(self, params: list) -> str:
        return hex(300_000)

    def send(self, decisions: list[Decision], reverted: dict[str, str] | None = None):
        model = pool_model(*(borrower(d.opportunity.user, {0: 10**18}, {2: 10**6}) for d in decisions))
        context = BlockContext(50, "0x", 50, 1_000, ScanResult())
        round_ = self.dispatcher.round(50, Fees(21 * GWEI, GWEI, False))
        return self.liquidator.send(model, Ranking(decisions, reverted or {}), round_, context, Decimal(2000))


def decision(user: str, profit: int = 100, send: bool = True, repay: int = 1000 * 10**6) -> Decision:
    model = pool_model()
    preview = Preview(WAD - 1, 10_500, repay, 1, 1, 0, False)
    opportunity = Opportunity(
        user, model.by_asset[WETH], model.by_asset[USDC], preview, WAD - 1, Decimal(profit), Decimal(0), False
    )
    return Decision(opportunity, send, "profitable" if send else "below min profit")


def test_each_gate_skips_with_its_reason_and_the_rest_is_sent(tmp_path):
    world = World(tmp_path, usdc_balance=2500 * 10**6)  # pays for two repayments of $1,000
    dave, erin = address(0xD004), address(0xD005)
    in_flight = decision(BOB)
    world.store.add_tx(
        TxRecord("0xaa", 1, "liquidate", in_flight.opportunity.intent, PENDING, "0x", 1, 1, 1, 1, 1)
    )
    world.reverting[erin.lower()] = "MustNotLeaveDust()"
    decisions = [decision(ALICE), decision(CAROL, send=False), in_flight, decision(erin), decision(dave)]

    attempts = world.send(decisions, reverted={address(0xD006): "ReservePaused()"})

    assert attempts.skipped == {
        address(0xD006): "ReservePaused()",
        CAROL: "below min profit",
        BOB: "in flight",
        dave: "insufficient debt token",  # alice's and erin's repayments used the USDC first
        erin: "MustNotLeaveDust()",
    }
    assert attempts.awaiting_funds == {dave}
    [sent] = attempts.sent
    assert world.store.tx(sent).intent == decisions[0].opportunity.intent
    stored = detection_from_json(world.store.get_meta(detection_key(decisions[0].opportunity.intent)))
    assert (stored.user, stored.detect_block, stored.detect_ms, stored.submit_ms) == (ALICE, 50, 1_000, 2_000)


def test_liquidations_are_simulated_and_sent_in_chunks_the_best_first(tmp_path):
    world = World(tmp_path)
    decisions = [decision(address(0xE000 + i), profit=1000 - i) for i in range(40)]

    attempts = world.send(decisions)

    assert len(attempts.sent) == 40
    methods = [m for m, _ in world.w3.provider.requests if m in ("eth_estimateGas", "eth_sendRawTransaction")]
    runs: list[tuple[str, int]] = []
    for method in methods:
        if runs and runs[-1][0] == method:
            runs[-1] = (method, runs[-1][1] + 1)
        else:
            runs.append((method, 1))
    assert runs == [
        ("eth_estimateGas", 8),
        ("eth_sendRawTransaction", 8),
        ("eth_estimateGas", 25),
        ("eth_sendRawTransaction", 25),
        ("eth_estimateGas", 7),
        ("eth_sendRawTransaction", 7),
    ]
    assert [tx["nonce"] for tx in world.node.taken] == list(range(7, 47))  # in ranking order


def test_a_dry_run_simulates_and_reports_without_reading_balances_or_signing(tmp_path):
    world = World(tmp_path, usdc_balance=0, dry_run=True)

    attempts = world.send([decision(ALICE)])

    assert attempts.sent == [f"dry-run:{ALICE}"]
    methods = {m for m, _ in world.w3.provider.requests}
    assert "eth_estimateGas" in methods
    assert methods.isdisjoint({"eth_sendRawTransaction", "eth_getBalance", "eth_getTransactionCount"})
    assert world.store.txs() == []
