"""Gas benchmark of the pool's user operations and liquidations (issues 3 and 4).

    brownie run $PWD/bench/gas.py [--network NAME]       # measure, compare with the snapshot
    UPDATE_GAS_SNAPSHOT=1 brownie run $PWD/bench/gas.py   # ... and accept the figures as snapshot
    BENCH_VERBOSE=1 ...                                   # ... and show every transaction

Brownie looks a relative script path up under `scripts/`: pass an absolute path (or
`../bench/gas.py`); `brownie run bench/gas.py` fails with "Cannot find bench/gas.py".

Deploys a fresh protocol with the contract tests' `Protocol` helper, then measures the receipt
`gasUsed` of each operation under steady-state conditions (`CONDITIONS`, also in results.json):

- every reserve has a non-zero kinked rate model and outstanding debt, and a block (12 s) passes
  before every measured transaction, so each one accrues and stores a new borrow index; prices are
  re-published so they are fresh;
- the accounts already hold what an active user would: the user a supply and a borrow, the
  liquidator collateral tokens, collateral supply shares and max-approved debt tokens, the fee
  receiver fee shares of the collateral reserve (an earlier liquidation); `supply_first` and
  `borrow_first` measure a user's first supply and first borrow;
- each liquidation variant starts from the same chain snapshot, and is checked to do what its name
  says (the script raises otherwise).

Writes `gas` and `gas_conditions` into bench/results.json (keeping its other keys, e.g. the keeper
figures) and prints the deltas against the committed bench/gas-snapshot.json, so that a gas change
is a visible decision: accept it with UPDATE_GAS_SNAPSHOT=1 and commit the snapshot.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import subprocess
import warnings
from pathlib import Path

from brownie import accounts, chain, network
from brownie._config import CONFIG

# The deployment helper the contract tests use (four mock tokens and feeds, zero-rate reserves).
from tests.contracts.conftest import (
    MAX_UINT,
    PRICE_MAX_AGE,
    RESERVES,
    WAD,
    Protocol,
    reserve_config,
)

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
RESULTS_PATH = BENCH_DIR / "results.json"
SNAPSHOT_PATH = BENCH_DIR / "gas-snapshot.json"

#: Every figure, in the order printed.
OPERATIONS = (
    "supply_first",
    "supply",
    "borrow_first",
    "borrow",
    "repay",
    "withdraw",
    "liquidate_partial",
    "liquidate_to_target",
    "liquidate_receive_shares",
    "liquidate_deficit",
    "liquidate_2x2",
    "settle_deficit",
    "flash_liquidate",
    "flash_liquidate_two_hop",
)

#: Public anchors: gas of one partial `liquidationCall` (single collateral, single debt).
ANCHORS = {"Aave V4": 365_078, "Aave V3": 340_429}
#: Issue 4's goal for `liquidate_partial`.
GOAL = {"operation": "liquidate_partial", "max_gas": 150_000}
#: Issue 16's goal for a flash liquidation (Aave V3 flash-loan liquidators commonly cost 400-600k).
FLASH_GOAL = {"operation": "flash_liquidate", "max_gas": 260_000}

#: Rate model set on every reserve (annual BPS).
RATE_MODEL = dict(base_rate=0, slope1=400, slope2=60_00, optimal=80_00)
#: Seconds that pass before every measured transaction (one mainnet block).
BLOCK_TIME = 12
#: WETH price before and after the crash that makes the victims liquidatable (8 decimals).
WETH_PRICE = 2_000 * 10**8
WETH_CRASH_PRICE = 1_600 * 10**8

CONDITIONS = {
    "measure": (
        "receipt gasUsed of one transaction (21,000 intrinsic and calldata included, refunds deducted)"
    ),
    "rate_model_bps": RATE_MODEL,
    "rate_model_reserves": "all four (WETH, WBTC, USDC, DAI); each has outstanding debt",
    "time_between_operations_s": BLOCK_TIME,
    "prices": (
        f"every feed re-published before every measured transaction (feeds go stale after {PRICE_MAX_AGE} s)"
    ),
    "steady_state": (
        "supply, borrow, repay and withdraw by a user who already has a WETH supply and a USDC "
        "borrow, and holds both tokens; repay and withdraw are partial; withdraw is of active "
        "collateral while borrowing (health factor checked)"
    ),
    "first_time": (
        "supply_first: the user's first supply (position slot and user bitmap zero; token balance "
        "and approval already set); borrow_first: the user's first borrow (drawn shares and "
        "borrowing bit zero, no balance of the borrowed token yet)"
    ),
    "liquidations": (
        "WETH collateral (CF 80%, max bonus 105%, fee 10%), USDC debt, after WETH falls from "
        "$2,000 to $1,600; every variant from the same chain snapshot"
    ),
    "liquidator": (
        "already holds WETH (an earlier liquidation) and WETH supply shares, and USDC approved "
        "to the pool for the maximum (no allowance write)"
    ),
    "fee_receiver": "already holds WETH fee shares (an earlier liquidation) and USDC supply shares",
    "variants": {
        "liquidate_partial": "debtToCover 15,000 USDC (~40% of what reaches the target)",
        "liquidate_to_target": "debtToCover = max; restores the target HF (1.05)",
        "liquidate_receive_shares": "as liquidate_to_target, with receiveShares",
        "liquidate_deficit": (
            "max on a user whose only collateral cannot cover the debt (HF 0.81): all collateral "
            "seized, DeficitReported and settled in the same call (the fee receiver's USDC shares)"
        ),
        "liquidate_2x2": (
            "max, seizing WETH and repaying USDC, on a user with WETH and WBTC collateral and USDC "
            "and DAI debt (HF 0.97); all four positions stay open"
        ),
        "settle_deficit": (
            "settleDeficit(DAI) after a liquidation wrote off DAI debt while the DAI reserve was paused "
            "(a deficit on a reserve that is not paused is settled by the liquidation itself); the fee "
            "receiver's DAI shares cover it"
        ),
        "flash_liquidate": (
            "FlashLiquidator.liquidate by its owner, to the target, on the liquidate_to_target victim: one "
            "exact-output swap in the real Uniswap V3 WETH/USDC 0.05% pool (from the npm artifacts) whose "
            "callback liquidates; warm contract (an earlier flash liquidation left it WETH profit)"
        ),
        "flash_liquidate_two_hop": (
            "the same, WETH collateral and DAI debt with no WETH/DAI pool: WETH -> USDC (0.05%) -> DAI "
            "(0.05%), two nested swaps"
        ),
    },
    "anchors": {f"{name} liquidationCall partial": gas for name, gas in ANCHORS.items()},
    "goal": GOAL,
    "flash_goal": FLASH_GOAL,
    "uniswap": "WETH/USDC 0.05% and USDC/DAI 0.05% pools created at the crash prices, $20M within +-2% each",
}


#: keccak256("Swap(address,address,int256,int256,uint160,uint128,int24)"), Uniswap V3's pool event.
SWAP_TOPIC = "c42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"


class BenchmarkError(RuntimeError):
    """A measured operation did not do what its name says."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkError(message)


class Scenario:
    """A protocol with rate models, liquidity, background debt and the accounts measured."""

    def __init__(self) -> None:
        deployer, fund, guardian = accounts[0], accounts[9], accounts[8]
        self.p = p = Protocol(deployer, fund, guardian)
        self.pool = p.pool
        self.weth, self.wbtc = p.tokens["WETH"], p.tokens["WBTC"]
        self.usdc, self.dai = p.tokens["USDC"], p.tokens["DAI"]
        for symbol, spec in RESERVES.items():
            p.pool.updateReserveConfig(
                p.tokens[symbol],
                reserve_config(spec["collateral_factor"], spec["max_bonus"], spec["fee"], **RATE_MODEL),
                {"from": deployer},
            )
        self.target_hf = self.pool.getLiquidationConfig()[0]
        self.fund = fund
        self.user = accounts[1]  # supply/borrow/repay/withdraw
        self.victim = accounts[2]  # partial, to target, receive shares
        self.deficit_victim = accounts[3]
        self.liquidator = accounts[4]
        self.supplier = accounts[5]
        self.victim_2x2 = accounts[6]
        self.background = accounts[7]
        # Liquidated before the measurements (a fixed key, so that every run is the same).
        self.earlier_victim = accounts.add("0x" + "b3" * 32)
        deployer.transfer(self.earlier_victim, 10**18, silent=True)
        self.deficit_victim_2 = accounts.add("0x" + "b4" * 32)
        deployer.transfer(self.deficit_victim_2, 10**18, silent=True)
        self.dai_victim = accounts.add("0x" + "b5" * 32)  # WETH collateral, DAI debt (two hops)
        deployer.transfer(self.dai_victim, 10**18, silent=True)
        self.warm_victim = accounts.add("0x" + "b6" * 32)  # the FlashLiquidator's earlier liquidation
        deployer.transfer(self.warm_victim, 10**18, silent=True)
        self.flash = None

    def units(self, symbol: str, amount: int) -> int:
        return amount * 10 ** RESERVES[symbol]["decimals"]

    def tick(self) -> None:
        """One block passes; prices are re-published so they are fresh."""
        chain.sleep(BLOCK_TIME)
        self.p.refresh_prices()

    def setup(self) -> None:
        p, u = self.p, self.units
        # Liquidity, and debt on every reserve so that every index accrues.
        for symbol, amount in (("WETH", 1_000), ("WBTC", 50), ("USDC", 600_000), ("DAI", 200_000)):
            p.supply(self.supplier, symbol, u(symbol, amount))
        p.supply(self.background, "WBTC", u("WBTC", 40))
        p.borrow(self.background, "WETH", u("WETH", 500))
        p.borrow(self.background, "WBTC", u("WBTC", 10))

        # The liquidator: USDC approved (max), a WETH supply position.
        p.mint_and_approve(self.liquidator, "USDC", u("USDC", 2_000_000))
        p.mint_and_approve(self.liquidator, "DAI", u("DAI", 1_000_000))
        p.supply(self.liquidator, "WETH", u("WETH", 1))
        # The insurance fund holds USDC supply shares (it pays the USDC deficit first).
        p.mint_and_approve(p.deployer, "USDC", u("USDC", 5_000))
        p.pool.supply(self.usdc, u("USDC", 5_000), self.fund, {"from": p.deployer})
        p.mint_and_approve(p.deployer, "DAI", u("DAI", 5_000))
        p.pool.supply(self.dai, u("DAI", 5_000), self.fund, {"from": p.deployer})

        # An earlier liquidation: the fee receiver gets WETH fee shares, the liquidator WETH.
        p.supply(self.earlier_victim, "WETH", u("WETH", 10))
        p.set_price("WETH", 2_100 * 10**8)
        p.borrow(self.earlier_victim, "USDC", u("USDC", 16_500))
        p.set_price("WETH", WETH_PRICE)
        self.tick()
        tx = p.pool.liquidate(
            self.weth, self.usdc, self.earlier_victim, MAX_UINT, False, {"from": self.liquidator}
        )
        check(tx.events["LiquidationCall"]["protocolFee"] > 0, "the earlier liquidation paid no fee")
        check(
            self.pool.getUserShares(self.fund, self.weth)[0] > 0,
            "the fee receiver holds no WETH shares",
        )
        check(self.weth.balanceOf(self.liquidator) > 0, "the liquidator holds no WETH")

        # The victims, healthy at $2,000 and liquidatable at $1,600.
        p.supply(self.victim, "WETH", u("WETH", 100))
        p.borrow(self.victim, "USDC", u("USDC", 130_000))  # HF 0.985 at $1,600
        p.supply(self.deficit_victim, "WETH", u("WETH", 10))
        # HF 0.81 at $1,600: the collateral is worth less than the debt times the bonus.
        p.borrow(self.deficit_victim, "USDC", u("USDC", 15_800))
        p.supply(self.deficit_victim_2, "WETH", u("WETH", 10))
        p.borrow(self.deficit_victim_2, "USDC", u("USDC", 15_500))
        p.borrow(self.deficit_victim_2, "DAI", u("DAI", 300))  # HF 0.81 at $1,600: USDC takes all WETH
        p.supply(self.victim_2x2, "WETH", u("WETH", 60))
        p.supply(self.victim_2x2, "WBTC", u("WBTC", 1))
        p.borrow(self.victim_2x2, "USDC", u("USDC", 80_000))
        p.borrow(self.victim_2x2, "DAI", u("DAI", 45_000))  # HF 0.974 at $1,600

        p.supply(self.dai_victim, "WETH", u("WETH", 100))
        p.borrow(self.dai_victim, "DAI", u("DAI", 130_000))  # HF 0.985 at $1,600
        p.supply(self.warm_victim, "WETH", u("WETH", 10))
        p.borrow(self.warm_victim, "USDC", u("USDC", 13_000))

        # The user of the plain operations holds WETH (approved) but has never touched the pool.
        p.mint_and_approve(self.user, "WETH", u("WETH", 20))
        self.usdc.approve(self.pool, MAX_UINT, {"from": self.user})  # to repay, later

    def crash(self) -> None:
        """WETH falls to $1,600: the three victims become liquidatable."""
        self.p.set_price("WETH", WETH_CRASH_PRICE)
        for victim in (self.victim, self.deficit_victim, self.victim_2x2):
            check(
                self.p.health_factor(victim) < WAD,
                f"victim {victim} is not liquidatable after the crash",
            )

    # Plain operations, measured in sequence on one user.

    def measure_user_operations(self) -> dict[str, int]:
        pool, user, u = self.pool, self.user, self.units
        gas: dict[str, int] = {}

        def measure(name: str, function, event: str, *args):
            self.tick()
            tx = function(*args, {"from": user})
            check(event in tx.events, f"{name}: no {event} event")
            check("InterestAccrued" in tx.events, f"{name}: the borrow index did not accrue")
            gas[name] = tx.gas_used
            return tx

        tx = measure("supply_first", pool.supply, "Supply", self.weth, u("WETH", 10), user)
        check(
            "CollateralToggled" in tx.events,
            "supply_first: collateral not enabled (not a first supply)",
        )
        tx = measure("supply", pool.supply, "Supply", self.weth, u("WETH", 5), user)
        check(
            "CollateralToggled" not in tx.events,
            "supply: collateral toggled (not a steady-state supply)",
        )
        check(self.usdc.balanceOf(user) == 0, "borrow_first: the user already holds USDC")
        measure("borrow_first", pool.borrow, "Borrow", self.usdc, u("USDC", 5_000))
        measure("borrow", pool.borrow, "Borrow", self.usdc, u("USDC", 2_000))
        measure("repay", pool.repay, "Repay", self.usdc, u("USDC", 1_000), user)
        check(pool.getUserShares(user, self.usdc)[1] > 0, "repay: the whole debt was repaid")
        measure("withdraw", pool.withdraw, "Withdraw", self.weth, u("WETH", 1), user)
        check(pool.getUserShares(user, self.weth)[0] > 0, "withdraw: the whole supply was withdrawn")
        return gas

    # Liquidations, each from the same snapshot.

    def _liquidate(self, name: str, user, debt_to_cover: int, receive_shares: bool = False):
        tx = self.pool.liquidate(
            self.weth, self.usdc, user, debt_to_cover, receive_shares, {"from": self.liquidator}
        )
        event = tx.events["LiquidationCall"]
        check(
            event["user"] == user and event["liquidator"] == self.liquidator,
            f"{name}: wrong LiquidationCall",
        )
        check(event["healthFactorBefore"] < WAD, f"{name}: the user was not liquidatable")
        check(
            event["receiveShares"] == receive_shares,
            f"{name}: receiveShares {event['receiveShares']}",
        )
        check(event["debtRepaid"] > 0 and event["collateralSeized"] > 0, f"{name}: nothing liquidated")
        check(event["protocolFee"] > 0, f"{name}: no protocol fee")
        check(
            "InterestAccrued" in tx.events and len(tx.events["InterestAccrued"]) == 2,
            f"{name}: both indexes should accrue",
        )
        return tx, event

    def _check_at_target(self, name: str, user) -> None:
        hf = self.p.health_factor(user)
        check(
            abs(hf - self.target_hf) <= self.target_hf // 10**6,
            f"{name}: health factor after {hf} is not the target {self.target_hf}",
        )

    def _check_open(self, name: str, user, tx) -> None:
        """The user keeps debt and collateral: no dust clearing, no deficit."""
        check("DeficitReported" not in tx.events, f"{name}: reported a deficit")
        supply_shares = self.pool.getUserShares(user, self.weth)[0]
        drawn_shares = self.pool.getUserShares(user, self.usdc)[1]
        check(supply_shares > 0 and drawn_shares > 0, f"{name}: the position was closed")

    def liquidate_partial(self) -> dict[str, int]:
        name, victim = "liquidate_partial", self.victim
        to_target = self.pool.previewLiquidation(
            self.weth, self.usdc, victim, MAX_UINT, {"from": self.liquidator}
        )[2]
        # A round amount (calldata the same on every run), about half of what reaches the target.
        debt_to_cover = self.units("USDC", 15_000)
        check(debt_to_cover < to_target * 2 // 3, f"{name}: {debt_to_cover} is not partial")
        tx, event = self._liquidate(name, victim, debt_to_cover)
        check(
            event["debtRepaid"] == debt_to_cover,
            f"{name}: repaid {event['debtRepaid']}, not {debt_to_cover}",
        )
        hf = self.p.health_factor(victim)
        check(event["healthFactorBefore"] < hf < self.target_hf, f"{name}: health factor after {hf}")
        self._check_open(name, victim, tx)
        return {name: tx.gas_used}

    def liquidate_to_target(self) -> dict[str, int]:
        name, victim = "liquidate_to_target", self.victim
        weth_before = self.weth.balanceOf(self.liquidator)
        tx, _ = self._liquidate(name, victim, MAX_UINT)
        self._check_at_target(name, victim)
        self._check_open(name, victim, tx)
        check(
            self.weth.balanceOf(self.liquidator) > weth_before,
            f"{name}: the liquidator received no WETH",
        )
        return {name: tx.gas_used}

    def liquidate_receive_shares(self) -> dict[str, int]:
        name, victim = "liquidate_receive_shares", self.victim
        weth_before = self.weth.balanceOf(self.liquidator)
        shares_before = self.pool.getUserShares(self.liquidator, self.weth)[0]
        check(
            weth_before > 0 and shares_before > 0,
            f"{name}: the liquidator starts without WETH or shares",
        )
        tx, _ = self._liquidate(name, victim, MAX_UINT, receive_shares=True)
        self._check_at_target(name, victim)
        self._check_open(name, victim, tx)
        check(self.weth.balanceOf(self.liquidator) == weth_before, f"{name}: WETH was transferred")
        check(
            self.pool.getUserShares(self.liquidator, self.weth)[0] > shares_before,
            f"{name}: no shares received",
        )
        return {name: tx.gas_used}

    def liquidate_deficit_and_settle(self) -> dict[str, int]:
        name, victim = "liquidate_deficit", self.deficit_victim
        tx, _ = self._liquidate(name, victim, MAX_UINT)
        check("DeficitReported" in tx.events, f"{name}: no DeficitReported")
        check(tuple(self.pool.getUserShares(victim, self.weth)) == (0, 0), f"{name}: collateral left")
        check(tuple(self.pool.getUserShares(victim, self.usdc)) == (0, 0), f"{name}: debt left")
        written_off = tx.events["DeficitReported"]["amount"]
        check(
            "DeficitCovered" in tx.events and tx.events["DeficitCovered"]["amount"] == written_off,
            f"{name}: the fee receiver did not pay the deficit in the same call",
        )
        check(self.pool.deficit(self.usdc) == 0, f"{name}: deficit left")
        gas = {name: tx.gas_used}

        # A deficit on a paused reserve stays recorded until settleDeficit: the second victim owes
        # USDC and DAI, DAI is paused while its WETH is seized.
        name, victim = "settle_deficit", self.deficit_victim_2
        self.pool.setReservePaused(self.dai, True, {"from": self.p.guardian})
        tx = self.pool.liquidate(self.weth, self.usdc, victim, MAX_UINT, False, {"from": self.liquidator})
        deficit = self.pool.deficit(self.dai)
        check(deficit > 0, f"{name}: no DAI deficit recorded")
        self.pool.setReservePaused(self.dai, False, {"from": self.p.deployer})
        self.tick()
        tx = self.pool.settleDeficit(self.dai, {"from": self.liquidator})
        check("DeficitCovered" in tx.events, f"{name}: the fee receiver did not pay")
        check(
            tx.events["DeficitCovered"]["amount"] == deficit,
            f"{name}: the fee receiver paid part only",
        )
        check(self.pool.deficit(self.dai) == 0, f"{name}: deficit left")
        gas[name] = tx.gas_used
        return gas

    def liquidate_2x2(self) -> dict[str, int]:
        name, victim = "liquidate_2x2", self.victim_2x2
        counts = tuple(self.pool.getUserAccountData(victim))[4:]
        check(counts == (2, 2), f"{name}: {counts[0]} collaterals and {counts[1]} debts, not 2 and 2")
        tx, _ = self._liquidate(name, victim, MAX_UINT)
        self._check_at_target(name, victim)
        self._check_open(name, victim, tx)
        counts = tuple(self.pool.getUserAccountData(victim))[4:]
        check(counts == (2, 2), f"{name}: {counts} collaterals and debts left, not 2 and 2")
        return {name: tx.gas_used}

    def deploy_flash(self) -> None:
        """Uniswap V3 (the npm packages' bytecode) with pools at the crash prices, and a FlashLiquidator
        owned by the liquidator, warmed by one flash liquidation (its profit slot holds WETH)."""
        from brownie import FlashLiquidator, web3

        from keeper.deployment import AssetInfo
        from scripts.deployer import Sender
        from scripts.uniswap import PairPlan, UniswapDeployer, UniswapPlan

        p = self.p
        assets = {
            s: AssetInfo(s, t.address, t.decimals(), p.feeds[s].address, mock_token=True)
            for s, t in p.tokens.items()
        }
        prices = {s: p.oracle.getPrice(t) for s, t in p.tokens.items()}
        plan = UniswapPlan(
            pairs=(PairPlan("WETH", "USDC", 500), PairPlan("USDC", "DAI", 500)), full_range_usd=0
        )
        self.uniswap = UniswapDeployer(
            web3, Sender(web3, address=accounts[8].address), plan, assets, prices
        ).deploy()
        self.flash = FlashLiquidator.deploy(
            self.pool, self.uniswap.factory, self.liquidator, {"from": p.deployer}
        )
        tx = self.flash.liquidate(self._order(self.warm_victim, "USDC"), {"from": self.liquidator})
        check(tx.events["FlashLiquidation"]["profit"] > 0, "the warm-up flash liquidation left no profit")

    def _order(self, user, debt: str) -> tuple:
        """A FlashLiquidator order to the target: direct WETH/USDC, or WETH -> USDC -> DAI for DAI."""
        two_hop = debt == "DAI"
        return (
            self.weth,
            self.p.tokens[debt],
            user,
            MAX_UINT,
            500,
            self.usdc if two_hop else "0x" + "00" * 20,
            500 if two_hop else 0,
            0,
            chain.height + 1,
        )

    def flash_liquidate(self) -> dict[str, int]:
        gas = {}
        for name, victim, debt in (
            ("flash_liquidate", self.victim, "USDC"),
            ("flash_liquidate_two_hop", self.dai_victim, "DAI"),
        ):
            chain.revert()
            self.tick()
            profit_before = self.weth.balanceOf(self.flash)
            tx = self.flash.liquidate(self._order(victim, debt), {"from": self.liquidator})
            check("FlashLiquidation" in tx.events, f"{name}: no FlashLiquidation")
            check(
                self.weth.balanceOf(self.flash) > profit_before > 0, f"{name}: no profit, or a cold contract"
            )
            swaps = sum(1 for e in tx.logs if e["topics"][0].hex().endswith(SWAP_TOPIC))
            check(swaps == (2 if debt == "DAI" else 1), f"{name}: {swaps} swaps")
            self._check_at_target(name, victim)
            gas[name] = tx.gas_used
        return gas

    def measure_liquidations(self) -> dict[str, int]:
        self.crash()
        self.deploy_flash()
        chain.snapshot()
        gas: dict[str, int] = {}
        for variant in (
            self.liquidate_partial,
            self.liquidate_to_target,
            self.liquidate_receive_shares,
            self.liquidate_deficit_and_settle,
            self.liquidate_2x2,
        ):
            chain.revert()
            self.tick()
            gas.update(variant())
        gas.update(self.flash_liquidate())
        chain.revert()
        return gas

    def utilization_bps(self) -> dict[str, int]:
        """Each reserve's utilisation (debt over cash plus debt), BPS."""
        result = {}
        for symbol, token in self.p.tokens.items():
            data = self.pool.getReserveData(token)
            debt, cash = data["totalDebt"], data["cash"]
            result[symbol] = debt * 10_000 // (cash + debt) if cash + debt else 0
        return result


# Output.


def git_source() -> dict:
    """The commit measured, and whether the contracts differ from it (read-only git)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    try:
        return {
            "commit": git("rev-parse", "HEAD"),
            "contracts_modified": bool(git("status", "--porcelain", "--", "contracts")),
        }
    except (OSError, subprocess.CalledProcessError):
        return {}


def compiler_settings() -> dict:
    solc = CONFIG.settings["compiler"]["solc"]
    return {
        "solc": solc.get("version"),
        "evm_version": CONFIG.settings["compiler"].get("evm_version"),
        "via_ir": bool(solc.get("viaIR")),
        "optimizer_runs": solc.get("optimizer", {}).get("runs")
        if solc.get("optimizer", {}).get("enabled")
        else None,
    }


def load_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def print_table(gas: dict[str, int], snapshot: dict[str, int], conditions: dict) -> list[str]:
    """Prints the figures beside the snapshot and the anchors; returns the names that changed."""

    def fmt(n: int | None) -> str:
        return "-" if n is None else f"{n:,}"

    compiler, snapshot_name = conditions["compiler"], SNAPSHOT_PATH.relative_to(PROJECT_ROOT)
    print()
    print(
        f"Gas (receipt gasUsed) on {conditions['network']} (chain {conditions['chain_id']}), "
        f"solc {compiler['solc']} viaIR={compiler['via_ir']} runs={compiler['optimizer_runs']} "
        f"evm={compiler['evm_version']}"
    )
    print(
        f"Conditions: rate model {RATE_MODEL} on every reserve, utilisation (BPS) "
        f"{conditions['utilization_bps']};\n  {BLOCK_TIME} s and fresh prices before every "
        "operation; steady-state accounts (first-time figures marked _first);\n  liquidator holds "
        "WETH, WETH shares and max-approved USDC; fee receiver holds WETH fee shares;\n  "
        "liquidations: WETH collateral, USDC debt, each from the same snapshot."
    )
    anchors = "; ".join(f"{name} partial liquidationCall {gas_:,}" for name, gas_ in ANCHORS.items())
    print(
        f"Anchors: {anchors}. Goals: {GOAL['operation']} <= {GOAL['max_gas']:,}, "
        f"{FLASH_GOAL['operation']} <= {FLASH_GOAL['max_gas']:,}."
    )
    header = f"{'operation':<26}{'gas':>9}{'snapshot':>10}{'delta':>9}"
    header += "".join(f"{'vs ' + name:>12}" for name in ANCHORS) + "  goal"
    print(header)
    print("-" * len(header))
    changed = []
    for name, used in gas.items():
        before = snapshot.get(name)
        delta = "new" if before is None else f"{used - before:+,}"
        if before is not None and used != before:
            changed.append(name)
        row = f"{name:<26}{fmt(used):>9}{fmt(before):>10}{delta:>9}"
        if name.startswith("liquidate_"):
            row += "".join(f"{f'{(used - anchor) / anchor:+.1%}':>12}" for anchor in ANCHORS.values())
        else:
            row += " " * 12 * len(ANCHORS)
        for goal in (GOAL, FLASH_GOAL):
            if name == goal["operation"]:
                over = used - goal["max_gas"]
                row += "  " + ("met" if over <= 0 else f"over by {over:,}")
        print(row.rstrip())
    print()
    if not snapshot:
        print(f"No gas snapshot ({snapshot_name}): UPDATE_GAS_SNAPSHOT=1 writes it.")
    elif changed:
        print(
            f"{len(changed)} figure(s) differ from {snapshot_name}: {', '.join(changed)}.\n"
            "If intended, accept them with UPDATE_GAS_SNAPSHOT=1 and commit the snapshot."
        )
    else:
        print(f"Every figure matches {snapshot_name}.")
    return changed


def measure() -> tuple[dict[str, int], dict[str, int]]:
    """Every figure, and the reserves' utilisation while the plain operations ran."""
    scenario = Scenario()
    scenario.setup()
    measured = scenario.measure_user_operations()
    utilization = scenario.utilization_bps()
    measured.update(scenario.measure_liquidations())
    return measured, utilization


def main() -> None:
    # Brownie's own chain.snapshot/revert call its deprecated rpc methods.
    warnings.filterwarnings("ignore", r"rpc\.\w+ should not be called directly", FutureWarning)
    if os.environ.get("BENCH_VERBOSE") == "1":
        measured, utilization = measure()
    else:
        # Brownie prints every transaction; keep that for a failure only (BENCH_VERBOSE=1: always).
        log = io.StringIO()
        try:
            with contextlib.redirect_stdout(log):
                measured, utilization = measure()
        except Exception:
            print(log.getvalue()[-20_000:])
            raise
    gas = {name: measured[name] for name in OPERATIONS}

    conditions = {
        **CONDITIONS,
        "utilization_bps": utilization,
        "network": network.show_active(),
        "chain_id": chain.id,
        "compiler": compiler_settings(),
        "source": git_source(),
        "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    snapshot = load_json(SNAPSHOT_PATH)
    print_table(gas, snapshot, conditions)

    results = load_json(RESULTS_PATH)
    results["gas"] = gas
    results["gas_conditions"] = conditions
    write_json(RESULTS_PATH, results)
    print(f"Wrote gas and gas_conditions to {RESULTS_PATH.relative_to(PROJECT_ROOT)}.")
    if os.environ.get("UPDATE_GAS_SNAPSHOT") == "1":
        write_json(SNAPSHOT_PATH, gas)
        print(f"Updated {SNAPSHOT_PATH.relative_to(PROJECT_ROOT)}.")
