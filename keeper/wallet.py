"""The keeper's funds: its ETH for gas, with the low-balance alarm, and the debt tokens it repays
liquidations with. A shortfall is warned about once, flagged on the `liqkeeper_low_balance` metric
and on /health."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from web3 import Web3

from keeper.contracts import erc20
from keeper.errors import FundsError
from keeper.maths import MAX_UINT256
from keeper.metrics import Metrics
from keeper.model import Reserve
from keeper.rpc_batch import RpcCounter
from keeper.transactions import APPROVE, Intent, NoFunds, Sent

if TYPE_CHECKING:
    from keeper.dispatch import Dispatcher
    from keeper.simulation import Simulator

log = logging.getLogger(__name__)

#: `--approve` choices: exactly what one liquidation repays, or the maximum once for all.
EXACT, UNLIMITED = "exact", "unlimited"
#: An exact approval covers the previewed repayment plus this much (BPS) of it, for the interest the
#: debt accrues between the preview and the block that includes the liquidation.
EXACT_MARGIN_BPS = 10


@dataclass(frozen=True)
class Approval:
    """One `approve(spender, amount)` the keeper is about to send on `token`."""

    token: str
    symbol: str
    decimals: int
    spender: str
    amount: int

    def describe(self) -> str:
        if self.amount == MAX_UINT256:
            amount = "unlimited (2^256-1)"
        else:
            tokens = Decimal(self.amount) / Decimal(10**self.decimals)
            amount = f"{tokens} {self.symbol} ({self.amount} units)"
        return f"approve {self.symbol} ({self.token}): spender {self.spender}, amount {amount}"


def exact_amount(repay: int) -> int:
    """The exact approval for a repayment of `repay` units: it plus EXACT_MARGIN_BPS, rounded up."""
    return repay + -(-repay * EXACT_MARGIN_BPS // 10_000)


class Wallet:
    def __init__(
        self,
        w3: Web3,
        address: str | None,
        metrics: Metrics,
        rpc: RpcCounter,
        min_eth_balance: Decimal,
    ):
        """`address` is the keeper's account (None without a key)."""
        self.w3 = w3
        self.address = address
        self.metrics = metrics
        self.rpc = rpc
        self.min_eth_balance = min_eth_balance
        self._gas_wei = 0  # worst-case gas (wei) of the last transaction about to be sent
        self._warned_tokens: set[str] = set()
        #: `approve_pool` at start-up; `liquidate` turns it off to show its approvals first.
        self.approve_at_start = True

    def native_balance(self, gas_wei: int | None = None) -> int:
        """The keeper's ETH balance in wei. Below MIN_ETH_BALANCE, or below the worst-case gas of the
        transaction about to be sent (`gas_wei`, else the last one), it is flagged on the metric and
        /health and warned about once, until it recovers."""
        if self.address is None:
            return 0
        if gas_wei is not None:
            self._gas_wei = gas_wei
        self.rpc.add()
        balance = self.w3.eth.get_balance(self.address)
        eth = Decimal(balance) / Decimal(10**18)
        self.metrics.eth_balance.set(float(eth))
        low = eth < self.min_eth_balance or balance < self._gas_wei
        self.metrics.low_balance.labels(what="native").set(1 if low else 0)
        health = self.metrics.health
        if low and "native" not in health.low_balance:
            health.low_balance.append("native")
            log.warning(
                "low_native_balance address=%s eth=%s gas_needed_eth=%s sending=paused",
                self.address,
                eth,
                Decimal(self._gas_wei) / Decimal(10**18),
            )
        elif not low and "native" in health.low_balance:
            health.low_balance.remove("native")
            log.info("native_balance_restored address=%s eth=%s", self.address, eth)
        return balance

    def approve_pool(
        self, pool: str, assets: Iterable[str], simulator: Simulator, dispatcher: Dispatcher, head: int
    ) -> None:
        """Approves the pool without limit for every asset (any can be a debt) that is not yet, all in
        one batch (one block), waiting for the receipts. Nothing when `approve_at_start` is off."""
        if not self.approve_at_start:
            return
        approvals = [self.approval(pool, asset, asset, 0, MAX_UINT256 // 2, UNLIMITED) for asset in assets]
        self.send_approvals([a for a in approvals if a is not None], simulator, dispatcher, head)

    def approval(
        self, spender: str, token: str, symbol: str, decimals: int, needed: int, mode: str
    ) -> Approval | None:
        """The approval that lets `spender` pull `needed` units of `token`: None when the allowance
        already covers it, else `needed` itself (EXACT) or the maximum (UNLIMITED)."""
        assert self.address is not None
        if erc20(self.w3, token).functions.allowance(self.address, spender).call() >= needed:
            return None
        amount = MAX_UINT256 if mode == UNLIMITED else needed
        return Approval(token=token, symbol=symbol, decimals=decimals, spender=spender, amount=amount)

    def send_approvals(
        self, approvals: Sequence[Approval], simulator: Simulator, dispatcher: Dispatcher, head: int
    ) -> None:
        """Sends `approvals` through the dispatcher in one round (one batch, so one block), then waits
        for every receipt."""
        if not approvals:
            return
        assert self.address is not None
        intents = []
        for approval in approvals:
            call = erc20(self.w3, approval.token).functions.approve(approval.spender, approval.amount)
            gas = simulator.estimate(call, self.address)
            intents.append(Intent(APPROVE, f"approve:{approval.token}", call, gas, budget_wei=10**18))
        outcomes = dispatcher.round(head).dispatch(intents)
        for intent, outcome in zip(intents, outcomes, strict=True):
            if isinstance(outcome, NoFunds):
                raise FundsError(f"account {self.address} cannot pay gas for {intent.key}")
        sent = [outcome for outcome in outcomes if isinstance(outcome, Sent)]
        for outcome in sent:
            self.w3.eth.wait_for_transaction_receipt(outcome.record.hash, timeout=120)
        if sent:
            dispatcher.poll(self.w3.eth.block_number)

    def debt_funds(self, signing: bool) -> DebtFunds:
        """The debt tokens for one block's liquidations; when nothing is signed (a dry run, or no
        key), they do not count."""
        return DebtFunds(self, counted=signing)

    def token_balance(self, debt: Reserve) -> int:
        """The keeper's balance of a debt token (and its metric)."""
        assert self.address is not None
        self.rpc.add()
        balance = erc20(self.w3, debt.asset).functions.balanceOf(self.address).call()
        self.metrics.token_balance.labels(asset=debt.symbol).set(balance / 10**debt.decimals)
        return balance

    def flag_shortfall(self, debt: Reserve, balance: int, needed: int) -> None:
        """Flags a debt token the keeper holds too little of; warns once per token."""
        low = f"{debt.symbol} balance"
        self.metrics.low_balance.labels(what=low).set(1)
        if low not in self.metrics.health.low_balance:
            self.metrics.health.low_balance.append(low)
        if debt.asset not in self._warned_tokens:
            self._warned_tokens.add(debt.asset)
            log.warning("insufficient_debt_token asset=%s balance=%d needed=%d", debt.symbol, balance, needed)


class DebtFunds:
    """One block's debt-token balances: each token read once, then every liquidation's repayment
    set aside from them, so the keeper sends no liquidation it cannot repay."""

    def __init__(self, wallet: Wallet, counted: bool):
        self.wallet = wallet
        self.counted = counted
        self.balances: dict[str, int] = {}

    def holds(self, debt: Reserve, needed: int) -> bool:
        """Whether the keeper holds `needed` of the debt token beyond what this block has set aside
        (nothing is set aside; no alarm). Always True when the balances do not count."""
        if not self.counted:
            return True
        if debt.asset not in self.balances:
            self.balances[debt.asset] = self.wallet.token_balance(debt)
        return self.balances[debt.asset] >= needed

    def cover(self, debt: Reserve, needed: int) -> bool:
        """Sets `needed` of the debt token aside; False (and the alarm) when the balance falls short.
        Always True when the balances do not count."""
        if not self.counted:
            return True
        if debt.asset not in self.balances:
            self.balances[debt.asset] = self.wallet.token_balance(debt)
        if self.balances[debt.asset] < needed:
            self.wallet.flag_shortfall(debt, self.balances[debt.asset], needed)
            return False
        self.balances[debt.asset] -= needed
        return True
