"""The market-driven crash: one scenario engine for the demo, the study and the benchmarks.

An exogenous reference price path (`paths.py`, seeded) is the outside world's price. Each block the
engine sends, without waiting, so that they land in the next block together:
1. the step's exogenous sell pressure (`SellPressure`, optional) into each risky asset's USDC pool;
2. one trade per pool by an arbitrageur with finite capital (`Arbitrageur`) toward the reference
   (stablecoin pools toward $1), which it reaches only while its inventory lasts;
3. the Chainlink-style publisher's updates (`ChainlinkPublisher`): it writes a feed when the market,
   each risky asset's USDC pool, has moved by the deviation threshold since its last answer, or the
   heartbeat has passed. The market it sees is the pool as this block will leave it: the reference
   where the pool's arbitrageur trades to it in this block, else the pool as the last block left it
   (an arbitrageur out of capital, or a pool already at the reference). So the oracle reports what
   the pool shows in the same block, as an aggregator reading the markets would, rather than one
   block late, and a pool left below the reference by liquidations is what it reports.
The keeper (a separate process, flash mode) liquidates after the updates and sells the seized
collateral into the same pools, which moves them further from the reference; the arbitrageurs buy it
back while their capital lasts, and a publisher reading a pool pushed down by liquidations writes an
update the reference alone would not have caused: a cascade (`PublishDecision.cascade`).

The engine only drives the market; it starts no keeper and judges nothing. What happened is its
`Timeline` (per block: reference, pool and oracle prices, trades, updates), which the study and the
demo put beside the independent observer's reading of the chain (bench/observer.py). Everything runs
on Anvil with interval mining: the caller turns it on before `run`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from web3 import Web3

from keeper.deployment import Deployment
from scripts.market.arbitrageur import Arbitrageur, ArbOrder, ArbTrade
from scripts.market.paths import PricePath
from scripts.market.pool_prices import PoolPriceReader, UsdPool
from scripts.market.publisher import ChainlinkPublisher, FeedRule, PublishDecision
from scripts.market.sell_pressure import SellOrder, SellPressure, SellTrade
from scripts.market.transactions import UnlockedAccount
from scripts.uniswap import PairPlan, UniswapPlan

log = logging.getLogger(__name__)

USD8 = 10**8
RISKY = ("WETH", "WBTC")

#: The crash's market: each risky asset against both stablecoins it is borrowed in, and the two
#: stablecoins against each other, so every (collateral, debt) pair of the devnet has a route
#: (WBTC -> USDC -> DAI takes two hops), and every pool has an arbitrageur to keep it on the reference.
#: No pool trades two risky assets against each other: its price would be the ratio of two
#: references, which no arbitrageur here trades toward.
MARKET_UNISWAP = UniswapPlan(
    pairs=(
        PairPlan("WETH", "USDC", 500),
        PairPlan("WBTC", "USDC", 3000),
        PairPlan("WETH", "DAI", 3000),
        PairPlan("USDC", "DAI", 500),
    )
)
#: The pools the arbitrageurs trade: (asset priced, quoted in).
ARB_POOLS = (("WETH", "USDC"), ("WBTC", "USDC"), ("WETH", "DAI"), ("USDC", "DAI"))


@dataclass(frozen=True)
class MarketConfig:
    """The market's parameters.

    @param feed oracle publication rule of every risky asset's feed (deviation BPS, heartbeat seconds)
    @param arb_risky_usd each arbitrageur's capital in the first token of its pool (the risky asset;
        what it sells to follow a falling reference), USD at the start price
    @param arb_stable_usd its capital in the stablecoin (what it buys back a pool pushed below the
        reference with: liquidations selling more than this leave the pool below), USD
    @param sell_per_step_usd exogenous selling of each risky asset per step of the path, USD at the
        start price (none by default)
    @param arb_buy_budget_usd what each arbitrageur may spend over the run buying the risky asset back
        below the reference (what the liquidations dump), USD; None: everything it holds, the proceeds
        of following the crash down included
    @param arb_min_gap_bps the smallest gap between pool and reference an arbitrageur trades on
    @param actor_tip_wei the priority fee the market's actors (arbitrageurs, sellers, the publisher) pay:
        0 by default, so that a keeper's place in a block is decided by its bid, not by who reacted to
        the last block first (the crash runs with a zero base fee)"""

    feed: FeedRule = field(default_factory=lambda: FeedRule(deviation_bps=50, heartbeat_seconds=3600))
    arb_risky_usd: float = 30_000_000.0
    arb_stable_usd: float = 5_000_000.0
    arb_buy_budget_usd: float | None = None
    sell_per_step_usd: Mapping[str, float] = field(default_factory=dict)
    arb_min_gap_bps: int = 5
    actor_tip_wei: int = 0


@dataclass(frozen=True)
class StepRecord:
    """One block of the crash: the step of the path it carried out, and the market after it."""

    step: int
    block: int
    timestamp: int
    reference_usd8: dict[str, int]
    pool_usd8: dict[str, int]  # each risky asset's USDC pool, mid price after the block
    oracle_usd8: dict[str, int]  # each risky asset's feed answer after the block
    arb_trades: list[ArbTrade]
    sells: list[SellTrade]
    updates: list[PublishDecision]  # the publisher's decisions sent in this step (published or not)

    def to_json(self) -> dict:
        return {
            "step": self.step,
            "block": self.block,
            "timestamp": self.timestamp,
            "reference_usd": {a: p / USD8 for a, p in self.reference_usd8.items()},
            "pool_usd": {a: p / USD8 for a, p in self.pool_usd8.items()},
            "oracle_usd": {a: p / USD8 for a, p in self.oracle_usd8.items()},
            "arb_trades": [
                {
                    "asset": t.order.asset,
                    "token_in": t.order.token_in,
                    "sell_risky": t.order.sell_risky,
                    "amount_in": t.amount_in,
                    "amount_out": t.amount_out,
                    "capital_limited": t.capital_limited,
                    "reverted": t.reverted,
                }
                for t in self.arb_trades
                if t.block is not None
            ],
            "sells": [{"asset": s.order.asset, "amount_in": s.amount_in} for s in self.sells if s.block],
            "updates": [
                {
                    "asset": u.asset,
                    "price_usd": u.market_usd8 / USD8,
                    "reason": u.reason.value if u.reason else None,
                    "cascade": u.cascade,
                }
                for u in self.updates
                if u.published
            ],
        }


@dataclass
class Timeline:
    """Every block the engine drove."""

    steps: list[StepRecord] = field(default_factory=list)

    @property
    def updates(self) -> list[PublishDecision]:
        return [u for s in self.steps for u in s.updates if u.published]

    @property
    def cascade_updates(self) -> int:
        """Oracle updates the market forced while the reference alone would not have (the selling)."""
        return sum(1 for u in self.updates if u.cascade)

    def arb_capital_exhausted(self) -> list[str]:
        """The pools whose arbitrageur ran out of the token it had to sell at least once."""
        return sorted({t.order.asset for s in self.steps for t in s.arb_trades if t.capital_limited})

    def to_json(self) -> list[dict]:
        return [s.to_json() for s in self.steps]


class CrashMarket:
    """The actors of the crash on one deployment: an arbitrageur per pool, the sell pressure, the
    publisher. `open` funds them (before interval mining starts: it waits for receipts)."""

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        arbitrageurs: Sequence[Arbitrageur],
        sellers: Mapping[str, SellPressure],
        publisher: ChainlinkPublisher,
    ):
        self.w3 = w3
        self.deployment = deployment
        self.arbitrageurs = list(arbitrageurs)
        self.sellers = dict(sellers)
        self.publisher = publisher
        self.prices = PoolPriceReader(w3, {a: UsdPool.of(deployment, a, "USDC") for a in RISKY})

    @classmethod
    def open(
        cls,
        w3: Web3,
        deployment: Deployment,
        config: MarketConfig,
        oracle_owner: str,
        actors: Sequence[str],
        steps: int,
        start_usd8: Mapping[str, int],
    ) -> CrashMarket:
        """Funds an arbitrageur per pool of `ARB_POOLS` and a seller per asset of
        `config.sell_per_step_usd` from `actors` (fresh Anvil accounts, one each, in that order), and
        the publisher from the feeds' owner."""
        uniswap = deployment.uniswap
        if uniswap is None:
            raise ValueError("the crash needs the deployment's Uniswap pools (MARKET_UNISWAP)")
        needed = len(ARB_POOLS) + len(config.sell_per_step_usd)
        if len(actors) < needed:
            raise ValueError(f"the market needs {needed} accounts, got {len(actors)}")
        prices = {**start_usd8, "USDC": USD8, "DAI": USD8}
        arbitrageurs = []
        for (asset, stable), address in zip(ARB_POOLS, actors, strict=False):
            pool = UsdPool.of(deployment, asset, stable)
            risky = int(config.arb_risky_usd * USD8 / prices[asset] * 10**pool.risky_decimals)
            usd = int(config.arb_stable_usd * USD8 / prices[stable] * 10**pool.stable_decimals)
            account = UnlockedAccount(w3, address, priority_fee_wei=config.actor_tip_wei)
            budget = config.arb_buy_budget_usd
            buy_budget = (
                None if budget is None else int(budget * USD8 / prices[stable] * 10**pool.stable_decimals)
            )
            arbitrageurs.append(
                Arbitrageur.open(
                    account,
                    uniswap.router,
                    pool,
                    risky,
                    usd,
                    min_gap_bps=config.arb_min_gap_bps,
                    buy_budget=buy_budget,
                )
            )
        sellers = {}
        for asset, address in zip(config.sell_per_step_usd, actors[len(ARB_POOLS) :], strict=False):
            pool = UsdPool.of(deployment, asset, "USDC")
            per_step = int(config.sell_per_step_usd[asset] * USD8 / prices[asset] * 10**pool.risky_decimals)
            account = UnlockedAccount(w3, address, priority_fee_wei=config.actor_tip_wei)
            sellers[asset] = SellPressure.open(account, uniswap.router, pool, per_step * steps, per_step)
        publisher = ChainlinkPublisher.for_deployment(
            UnlockedAccount(w3, oracle_owner, priority_fee_wei=config.actor_tip_wei),
            deployment,
            RISKY,
            "USDC",
            config.feed,
        )
        return cls(w3, deployment, arbitrageurs, sellers, publisher)

    def send(
        self, reference: Mapping[str, int], selling: bool
    ) -> tuple[list[SellOrder], list[ArbOrder], list]:
        """Sends one step: the sell pressure (while `selling`), every arbitrageur toward `reference`,
        the publisher's updates (from the latest block's pools); nothing is waited for."""
        sells = [s.send_step() for s in self.sellers.values()] if selling else []
        targets = {**reference, "USDC": USD8, "DAI": USD8}
        arbs = [arb.send(targets[arb.pool.asset]) for arb in self.arbitrageurs]
        markets = {
            order.asset: order.target_usd8
            for arb, order in zip(self.arbitrageurs, arbs, strict=True)
            if arb.pool.stable == "USDC" and order.asset in RISKY and order.tx_hash is not None
        }
        risky = {a: p for a, p in reference.items() if a in RISKY}
        updates = self.publisher.send(references=risky, markets=markets)
        return sells, arbs, updates

    def settle(
        self, step: int, reference: Mapping[str, int], orders: tuple[list[SellOrder], list[ArbOrder], list]
    ) -> StepRecord:
        """Waits for one step's transactions and reads the market after the block they landed in."""
        sells, arbs, updates = orders
        sold = [seller.settle(o) for seller, o in zip(self.sellers.values(), sells, strict=False)]
        trades = [arb.settle(o) for arb, o in zip(self.arbitrageurs, arbs, strict=True)]
        confirmed = self.publisher.confirm(updates)
        mined = [t.block for t in trades if t.block] + [u.update_block for u in confirmed if u.update_block]
        block = max(mined) if mined else self.w3.eth.block_number
        header = self.w3.eth.get_block(block)
        return StepRecord(
            step=step,
            block=block,
            timestamp=int(header["timestamp"]),
            reference_usd8=dict(reference),
            pool_usd8=self.prices.mid_prices_usd8(block),
            oracle_usd8={a: self.publisher.latest_answer(a, block).answer_usd8 for a in RISKY},
            arb_trades=trades,
            sells=sold,
            updates=confirmed,
        )


def wait_for_block(w3: Web3, after: int, timeout: float = 60) -> int:
    """The first block number above `after` (polled every 50 ms)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        number = w3.eth.block_number
        if number > after:
            return number
        time.sleep(0.05)
    raise RuntimeError(f"the node produced no block after {after} in {timeout:.0f} s")


def run_crash(
    market: CrashMarket,
    path: PricePath,
    *,
    settled: Callable[[StepRecord], bool],
    quiet_blocks: int = 3,
    max_extra_blocks: int = 60,
    on_step: Callable[[StepRecord], None] | None = None,
) -> Timeline:
    """Drives the path one step per block, then holds its last prices (the publisher and the
    arbitrageurs keep working) until `settled` has held for `quiet_blocks` blocks in a row, or
    `max_extra_blocks` have passed; the timeline of every block."""
    timeline = Timeline()
    head = market.w3.eth.block_number
    step, quiet, extra = 1, 0, 0
    while True:
        in_path = step <= path.steps
        reference = path.at(min(step, path.steps))
        orders = market.send(reference, selling=in_path)
        head = wait_for_block(market.w3, head)
        record = market.settle(step, reference, orders)
        head = max(head, record.block)
        timeline.steps.append(record)
        if on_step is not None:
            on_step(record)
        step += 1
        if in_path:
            continue
        extra += 1
        quiet = quiet + 1 if settled(record) else 0
        if quiet >= quiet_blocks or extra >= max_extra_blocks:
            if quiet < quiet_blocks:
                log.warning("crash_not_settled extra_blocks=%d", extra)
            return timeline
