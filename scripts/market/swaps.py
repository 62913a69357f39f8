"""One account's swaps on one USD pool through the deployed Uniswap V3 `SwapRouter.exactInputSingle`,
and what the pool's `Swap` event says they did. Shared by the arbitrageur and the sell pressure.

Approvals: `approve_router` gives the router an unlimited allowance on both tokens, once, at set-up.
The router pulls only what the pool asks for in its callback (at most the swap's `amountIn`), and the
accounts using it hold nothing but their trading inventory, so the allowance never bounds anything:
the balance does. One approval at set-up keeps every trade a single transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from web3.contract import Contract
from web3.logs import DISCARD

from scripts.deployer import contract
from scripts.market.pool_prices import UsdPool
from scripts.market.transactions import UnlockedAccount
from scripts.uniswap import DEADLINE, MAX_UINT, uniswap_contract

log = logging.getLogger(__name__)

#: Gas for one swap. A swap through a range without liquidity walks the tick bitmap word by word
#: (~256 ticks x spacing per word), so a swap with no price limit into an empty range can cost far
#: more than one that stays inside the liquidity.
SWAP_GAS = 3_000_000
TOKEN_GAS = 100_000


@dataclass(frozen=True)
class SwapFill:
    """What one swap transaction did, from its receipt and the pool's `Swap` event.

    @param tx_hash the transaction
    @param block the block it was mined in
    @param reverted whether it reverted (then the amounts are 0 and the price fields None)
    @param amount_in what the pool received, units of the token sold
    @param amount_out what the pool paid out, units of the token bought
    @param sqrt_price_x96_after the pool's sqrtPriceX96 right after this swap
    @param tick_after the pool's tick right after this swap
    @param gas_used gas of the transaction"""

    tx_hash: str
    block: int
    reverted: bool
    amount_in: int
    amount_out: int
    sqrt_price_x96_after: int | None
    tick_after: int | None
    gas_used: int


class PoolSwapper:
    """Sends exact-input swaps of one account on one USD pool, selling either of its two tokens."""

    def __init__(self, account: UnlockedAccount, router: str, pool: UsdPool, gas: int = SWAP_GAS):
        """@param account the trader (an account the node signs for)
        @param router the deployed SwapRouter's address
        @param pool the USD pool to trade
        @param gas gas limit of each swap"""
        self.account = account
        self.pool = pool
        self.gas = gas
        w3 = account.w3
        self._router = uniswap_contract(w3, "SwapRouter", router)
        self._pool = uniswap_contract(w3, "UniswapV3Pool", pool.address)
        self._tokens: dict[str, Contract] = {
            pool.risky_token: contract(w3, "MockERC20", pool.risky_token),
            pool.stable_token: contract(w3, "MockERC20", pool.stable_token),
        }

    @property
    def router(self) -> str:
        return str(self._router.address)

    def token_of(self, sell_risky: bool) -> tuple[str, str]:
        """(token in, token out) addresses of a swap selling the risky asset or buying it."""
        if sell_risky:
            return self.pool.risky_token, self.pool.stable_token
        return self.pool.stable_token, self.pool.risky_token

    def balance(self, token: str, block: int | str = "latest") -> int:
        """The account's balance of `token` (one of the pool's two) at `block`."""
        return int(self._tokens[token].functions.balanceOf(self.account.address).call(block_identifier=block))

    def mint_mock(self, amounts: Mapping[str, int]) -> None:
        """Mints MockERC20 `amounts` (token address -> units) to the account and waits: set-up only."""
        for token, amount in amounts.items():
            if amount > 0:
                self.account.transact(
                    self._tokens[token].functions.mint(self.account.address, amount), TOKEN_GAS
                )

    def approve_router(self) -> None:
        """Gives the router an unlimited allowance on both of the pool's tokens and waits (set-up)."""
        for token in self._tokens.values():
            self.account.transact(token.functions.approve(self.router, MAX_UINT), TOKEN_GAS)

    def send_exact_input(self, sell_risky: bool, amount_in: int, sqrt_price_limit_x96: int = 0) -> str:
        """Sends `exactInputSingle` now without waiting and returns the transaction hash. The pool takes
        at most `amount_in` of the token sold, less when the price reaches `sqrt_price_limit_x96`
        first (0: no limit). No minimum output: the limit, not a slippage bound, is the protection.

        @param sell_risky True to sell the risky asset for the stable, False to buy it with the stable
        @param amount_in the most the pool may take, units of the token sold
        @param sqrt_price_limit_x96 the price at which the swap stops (0 for none)"""
        if amount_in <= 0:
            raise ValueError(f"amount_in {amount_in} must be positive")
        token_in, token_out = self.token_of(sell_risky)
        params = (
            token_in,
            token_out,
            self.pool.fee,
            self.account.address,
            DEADLINE,
            amount_in,
            0,
            sqrt_price_limit_x96,
        )
        tx_hash = self.account.send(self._router.functions.exactInputSingle(params), self.gas)
        log.debug(
            "%s %s %d units into %s (limit %d): %s",
            self.account.address,
            "sells" if sell_risky else "buys with",
            amount_in,
            self.pool.asset,
            sqrt_price_limit_x96,
            tx_hash,
        )
        return tx_hash

    def fill(self, tx_hash: str) -> SwapFill:
        """Waits for `tx_hash` (a swap on this pool) and reads what it did from the pool's `Swap` event."""
        receipt = self.account.wait(tx_hash)
        block, gas_used = int(receipt["blockNumber"]), int(receipt["gasUsed"])
        if receipt["status"] != 1:
            return SwapFill(tx_hash, block, True, 0, 0, None, None, gas_used)
        events = [
            e
            for e in self._pool.events.Swap().process_receipt(receipt, errors=DISCARD)
            if e["address"] == self._pool.address
        ]
        if len(events) != 1:
            raise RuntimeError(
                f"transaction {tx_hash} has {len(events)} Swap events of pool {self.pool.address}"
            )
        args = events[0]["args"]
        amount0, amount1 = int(args["amount0"]), int(args["amount1"])
        return SwapFill(
            tx_hash=tx_hash,
            block=block,
            reverted=False,
            amount_in=max(amount0, amount1),
            amount_out=-min(amount0, amount1),
            sqrt_price_x96_after=int(args["sqrtPriceX96"]),
            tick_after=int(args["tick"]),
            gas_used=gas_used,
        )
