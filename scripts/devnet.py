"""Drive a local devnet the keeper watches: borrowers, prices, an account made liquidatable.

    python scripts/devnet.py seed 50 [--seed 1] [--hf-min 1.05] [--hf-max 2.0]
    python scripts/devnet.py set-price WETH 1500
    python scripts/devnet.py unhealthy 0xBorrower [--hf 0.95]
    python scripts/devnet.py show 0xBorrower
    python scripts/devnet.py mint 0xKeeper USDC 100000

Every command takes `--rpc-url` (env RPC_URL, default http://127.0.0.1:8545) and `--deployment` (env
DEPLOYMENT, default deployments/<chainId>.json), as the keeper does. The node is Anvil (seeding uses
its impersonation and mining RPCs); the deployment is one with mock feeds (`scripts/deploy.py` on a
devnet). `seed` puts positions on chain through the shared seeder (`scripts/population.py`): borrowers
are addresses no key controls, their collateral supplied by the node's first account, which also
supplies what they borrow (collateral: every asset with a collateral factor; debt: the $1 assets when
there are any). `unhealthy` lowers the prices of the account's collateral assets until its health
factor is `--hf`, which moves them for every account holding them. `mint` gives an account mock
tokens (the keeper's debt tokens, say). Any problem is one line and exit code 2.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from web3 import HTTPProvider, Web3  # noqa: E402
from web3.contract import Contract  # noqa: E402

from keeper.contracts import abi  # noqa: E402
from keeper.deployment import AssetInfo, Deployment, load_deployment  # noqa: E402
from keeper.errors import KeeperError  # noqa: E402
from scripts.population import Position, Seeder, Sizing, borrower_address, seeding_web3  # noqa: E402

WAD = 10**18
VALUE_PER_USD = 10**26
PRICE_UNIT = 10**8
NAMESPACE = 0xDE7E0000  # borrower addresses of `seed`: 0xde7e<seed><index>
MAX_SEED = 0xFFFF
REPRICE_ROUNDS = 6


class DevnetError(Exception):
    """A command that cannot be carried out, as one sentence."""


@dataclass
class Devnet:
    """The node, the deployment and the contracts the commands use."""

    w3: Web3
    url: str
    deployment: Deployment
    pool: Contract

    @classmethod
    def connect(cls, url: str, deployment_path: str | None) -> Devnet:
        w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 30}))
        try:
            chain_id = w3.eth.chain_id
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DevnetError(f"cannot reach the node at {url}: {reason[:160]}") from None
        deployment = load_deployment(Path(deployment_path or Path("deployments") / f"{chain_id}.json"))
        if deployment.chain_id != chain_id:
            raise DevnetError(
                f"the node is chain {chain_id} but {deployment.path} is for chain {deployment.chain_id}"
            )
        pool = w3.eth.contract(address=deployment.pool, abi=abi("LendingPool"))
        return cls(w3, url, deployment, pool)

    def asset(self, symbol: str) -> AssetInfo:
        try:
            return self.deployment.asset_by_symbol(symbol)
        except KeyError:
            symbols = ", ".join(a.symbol for a in self.deployment.assets)
            raise DevnetError(f"{symbol} is not an asset of {self.deployment.path} ({symbols})") from None

    def feed(self, asset: AssetInfo) -> Contract:
        return self.w3.eth.contract(address=asset.feed, abi=abi("MockPriceFeed"))

    def price(self, asset: AssetInfo) -> int:
        """The feed's answer (8 decimals)."""
        return int(self.feed(asset).functions.latestAnswer().call())

    def health_factor(self, user: str) -> int:
        return int(self.pool.functions.getUserAccountData(user).call()[2])

    def positions(self, user: str) -> list[tuple[AssetInfo, int, int, bool]]:
        """(asset, supplied, debt, used as collateral) for every asset the account touches."""
        rows = []
        for asset in self.deployment.assets:
            supplied, debt, collateral = self.pool.functions.getUserPosition(user, asset.address).call()
            if supplied or debt:
                rows.append((asset, int(supplied), int(debt), bool(collateral)))
        return rows

    def set_price(self, asset: AssetInfo, answer: int) -> int:
        """Publishes `answer` on the asset's mock feed from the feed's owner; the block it landed in."""
        if not asset.mock_feed:
            raise DevnetError(
                f"{asset.symbol}'s feed {asset.feed} is not a mock feed: its price cannot be set"
            )
        if answer <= 0:
            raise DevnetError(f"a price must be positive, not {answer / PRICE_UNIT}")
        feed = self.feed(asset)
        owner = feed.functions.owner().call()
        impersonate = owner not in self.w3.eth.accounts
        if impersonate:
            self._rpc("anvil_impersonateAccount", [owner])
        try:
            tx_hash = feed.functions.setPrice(answer).transact({"from": owner})
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
        finally:
            if impersonate:
                self._rpc("anvil_stopImpersonatingAccount", [owner])
        if receipt["status"] != 1:
            raise DevnetError(f"setPrice on {asset.symbol}'s feed reverted in {tx_hash.hex()}")
        return int(receipt["blockNumber"])

    def _rpc(self, method: str, params: list[Any]) -> Any:
        answer = self.w3.provider.make_request(method, params)
        if answer.get("error"):
            raise DevnetError(f"the node refused {method} (is it Anvil?): {answer['error'].get('message')}")
        return answer.get("result")


def usd(value: float) -> str:
    return f"${value:,.2f}"


def hf_text(hf: int) -> str:
    return "none (no debt)" if hf >= 2**255 else f"{hf / WAD:.4f}"


def address(raw: str) -> str:
    if not Web3.is_address(raw):
        raise DevnetError(f"{raw!r} is not an address")
    return Web3.to_checksum_address(raw)


# commands


def seed(net: Devnet, count: int, seed_value: int, hf_min: float, hf_max: float) -> list[str]:
    """`count` borrowers (random sizes of $5k-$100k, health factors uniform in [hf_min, hf_max])."""
    if count < 1:
        raise DevnetError(f"seed needs at least one borrower, not {count}")
    if not 1.0 < hf_min <= hf_max:
        raise DevnetError(f"health factors must satisfy 1 < --hf-min <= --hf-max, not {hf_min} and {hf_max}")
    if not 0 <= seed_value <= MAX_SEED:
        raise DevnetError(f"--seed must be between 0 and {MAX_SEED}, not {seed_value}")
    namespace = NAMESPACE + seed_value
    if net.positions(borrower_address(namespace, 0)):
        raise DevnetError(f"the borrowers of --seed {seed_value} exist already: pass another --seed")
    assets = net.deployment.assets
    collaterals = [a for a in assets if a.config.get("collateral_factor", 0) > 0]
    if not collaterals or len(assets) < 2:
        raise DevnetError(f"{net.deployment.path} lists no collateral asset and a second asset to borrow")
    sizing = Sizing.of(net.deployment, {a.symbol: net.price(a) / PRICE_UNIT for a in assets})
    rng = random.Random(seed_value)
    positions = []
    for i in range(count):
        collateral = rng.choice(collaterals)
        others = [a for a in assets if a.symbol != collateral.symbol]
        stable = [a for a in others if abs(sizing.prices[a.symbol] - 1.0) < 0.01]
        debt = rng.choice(stable or others)
        size = math.exp(rng.uniform(math.log(5_000), math.log(100_000)))
        hf = rng.uniform(hf_min, hf_max)
        positions.append(
            sizing.position(borrower_address(namespace, i), collateral.symbol, size, debt.symbol, hf)
        )
    liquidity: dict[str, int] = {}
    for p in positions:
        liquidity[p.debt] = liquidity.get(p.debt, 0) + 2 * p.debt_amount
    supplier = net.w3.eth.accounts[0] if net.w3.eth.accounts else None
    if supplier is None:
        raise DevnetError(f"the node at {net.url} has no unlocked account to supply from")
    seeder = Seeder(seeding_web3(net.url), net.deployment, supplier)
    try:
        seeder.provide(positions, liquidity)
        seeder.seed(positions)
    except RuntimeError as exc:
        raise DevnetError(f"seeding failed (the node must be Anvil): {str(exc)[:200]}") from None
    for p in positions:
        print(_position_line(net, p))
    return [p.borrower for p in positions]


def _position_line(net: Devnet, p: Position) -> str:
    collateral, debt = net.asset(p.collateral), net.asset(p.debt)
    return (
        f"{p.borrower}  {p.collateral_amount / 10**collateral.decimals:>14,.6f} {p.collateral:5} "
        f"{p.debt_amount / 10**debt.decimals:>14,.2f} {p.debt:5}  HF {hf_text(net.health_factor(p.borrower))}"
    )


def set_price(net: Devnet, symbol: str, price_usd: float) -> None:
    asset = net.asset(symbol)
    before = net.price(asset)
    block = net.set_price(asset, round(price_usd * PRICE_UNIT))
    print(f"{symbol} {usd(before / PRICE_UNIT)} -> {usd(net.price(asset) / PRICE_UNIT)} in block {block}")


def make_unhealthy(net: Devnet, user: str, target: float) -> int:
    """Scales the prices of the account's collateral (the assets it does not also borrow) until its
    health factor is at most `target`; the health factor reached."""
    if not 0 < target < 1:
        raise DevnetError(f"--hf must be between 0 and 1, not {target}")
    rows = net.positions(user)
    if not any(debt for _, _, debt, _ in rows):
        raise DevnetError(f"{user} has no debt: no price makes it unhealthy")
    movable = [a for a, supplied, debt, used in rows if supplied and used and not debt]
    if not movable:
        raise DevnetError(f"{user} has no collateral that it does not also borrow: no price to lower")
    before = net.health_factor(user)
    prices = {a.symbol: net.price(a) for a in movable}
    start = dict(prices)
    hf = before
    goal = int(target * WAD)
    for _ in range(REPRICE_ROUNDS):
        if hf <= goal:
            break
        for asset in movable:
            prices[asset.symbol] = max(1, prices[asset.symbol] * goal // hf)
            net.set_price(asset, prices[asset.symbol])
        hf = net.health_factor(user)
    if hf >= WAD:
        raise DevnetError(f"{user} is still healthy (HF {hf_text(hf)}) after lowering {', '.join(prices)}")
    moves = ", ".join(f"{s} {usd(start[s] / PRICE_UNIT)} -> {usd(prices[s] / PRICE_UNIT)}" for s in prices)
    print(f"{user}: health factor {hf_text(before)} -> {hf_text(hf)} ({moves})")
    return hf


def mint(net: Devnet, user: str, symbol: str, amount: float) -> None:
    asset = net.asset(symbol)
    if not asset.mock_token:
        raise DevnetError(f"{symbol} {asset.address} is not a mock token: it cannot be minted")
    if amount <= 0:
        raise DevnetError(f"the amount must be positive, not {amount}")
    token = net.w3.eth.contract(address=asset.address, abi=abi("MockERC20"))
    sender = net.w3.eth.accounts[0] if net.w3.eth.accounts else None
    if sender is None:
        raise DevnetError(f"the node at {net.url} has no unlocked account to send from")
    tx_hash = token.functions.mint(user, round(amount * 10**asset.decimals)).transact({"from": sender})
    net.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
    balance = token.functions.balanceOf(user).call() / 10**asset.decimals
    print(f"{user}: {balance:,.6f} {symbol}")


def show(net: Devnet, user: str) -> None:
    collateral_value, debt_value, hf, *_ = net.pool.functions.getUserAccountData(user).call()
    print(f"account {user}")
    print(f"health factor {hf_text(hf)}{'  LIQUIDATABLE' if hf < WAD else ''}")
    print(f"collateral {usd(collateral_value / VALUE_PER_USD)}, debt {usd(debt_value / VALUE_PER_USD)}")
    rows = net.positions(user)
    if not rows:
        print("no positions")
        return
    print(f"{'asset':6} {'supplied':>20} {'borrowed':>20} {'price':>14}  collateral")
    for asset, supplied, debt, used in rows:
        unit = 10**asset.decimals
        print(
            f"{asset.symbol:6} {supplied / unit:>20,.6f} {debt / unit:>20,.6f} "
            f"{usd(net.price(asset) / PRICE_UNIT):>14}  {'yes' if used else 'no'}"
        )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python scripts/devnet.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--rpc-url", default=None, help="node URL (env RPC_URL; default http://127.0.0.1:8545)")
    p.add_argument(
        "--deployment",
        default=None,
        help="deployment file (env DEPLOYMENT; default deployments/<chainId>.json)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    s = sub.add_parser("seed", help="seed N borrowers with random positions")
    s.add_argument("count", type=int)
    s.add_argument(
        "--seed", type=int, default=1, help="random seed; also picks the borrower addresses (default 1)"
    )
    s.add_argument("--hf-min", type=float, default=1.05, help="lowest health factor (default 1.05)")
    s.add_argument("--hf-max", type=float, default=2.0, help="highest health factor (default 2.0)")
    sp = sub.add_parser("set-price", help="publish a price (USD) on an asset's mock feed")
    sp.add_argument("symbol")
    sp.add_argument("price", type=float)
    u = sub.add_parser("unhealthy", help="lower the account's collateral prices until its HF is --hf")
    u.add_argument("user")
    u.add_argument("--hf", type=float, default=0.95, help="the health factor to reach (default 0.95)")
    sh = sub.add_parser("show", help="an account's positions and health factor")
    sh.add_argument("user")
    m = sub.add_parser("mint", help="mint mock tokens to an account")
    m.add_argument("user")
    m.add_argument("symbol")
    m.add_argument("amount", type=float, help="whole tokens")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    url = args.rpc_url or os.environ.get("RPC_URL") or "http://127.0.0.1:8545"
    try:
        net = Devnet.connect(url, args.deployment or os.environ.get("DEPLOYMENT"))
        if args.command == "seed":
            seed(net, args.count, args.seed, args.hf_min, args.hf_max)
        elif args.command == "set-price":
            set_price(net, args.symbol, args.price)
        elif args.command == "unhealthy":
            make_unhealthy(net, address(args.user), args.hf)
        elif args.command == "show":
            show(net, address(args.user))
        elif args.command == "mint":
            mint(net, address(args.user), args.symbol, args.amount)
    except (DevnetError, KeeperError) as exc:
        print(f"devnet: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
