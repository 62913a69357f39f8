"""Deploy liqengine, print the listing and write deployments/<chainId>.json.

    python scripts/deploy.py --rpc-url http://127.0.0.1:8545 [--chain-id 31337]  # any node, by URL
    python scripts/deploy.py [--network NAME]        # a Brownie network: development (Brownie's own
                                                     # Anvil), liqengine-dev, ganache, sepolia, ...
    brownie run scripts/deploy.py [--network NAME]   # the same, where the checkout's path has no dot

The deployer signs with DEPLOYER_PRIVATE_KEY (environment, or `.env` in the working directory; the
environment wins). Without it, on a Brownie development network or a node that has unlocked accounts
(Anvil, Ganache), the node's first account deploys. The keeper's PRIVATE_KEY is never read.
DEPLOY_PLAN may name a JSON plan with existing token and Chainlink feed addresses (see README), so no
mocks are deployed for them. KEEPER_ADDRESS (the keeper's account) deploys a FlashLiquidator owned by it
beside the plan's Uniswap pools, so that the keeper can liquidate with no capital (`--mode flash`).
DEPLOYMENTS_DIR changes where the deployment file is written (default: deployments/ in the project).

Every problem found before the first transaction (a malformed key, a missing or malformed plan, a
planned address without code, a deployer without ETH, a node on another chain) ends the script with
one line and exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dotenv import load_dotenv  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402
from web3 import HTTPProvider, Web3  # noqa: E402

from keeper.deployment import Deployment  # noqa: E402
from keeper.errors import ConfigError  # noqa: E402
from scripts.deployer import DEPLOYMENTS_DIR, DeployError, Sender, default_plan, deploy, plan_from_file  # noqa: E402
from scripts.listing import listing_table, uniswap_table  # noqa: E402

log = logging.getLogger("deploy")

KEY_VARIABLE = "DEPLOYER_PRIVATE_KEY"
RPC_TIMEOUT_SECONDS = 30


def deployer_account(key: str) -> LocalAccount:
    """The account of a DEPLOYER_PRIVATE_KEY value, or a `ConfigError` sentence that never repeats it."""
    body = key.strip()
    body = body[2:] if body.startswith("0x") else body
    if len(body) != 64 or any(c not in "0123456789abcdefABCDEF" for c in body):
        raise ConfigError(f"{KEY_VARIABLE} must be 32 bytes of hex (64 hex digits, 0x optional)")
    try:
        return Account.from_key("0x" + body)
    except Exception:
        raise ConfigError(f"{KEY_VARIABLE} is not a valid secp256k1 private key") from None


def read_dotenv() -> None:
    """`.env` in the working directory fills the variables the environment does not set."""
    load_dotenv(Path.cwd() / ".env")


def key_account() -> LocalAccount | None:
    """The deployer's key (DEPLOYER_PRIVATE_KEY); None if unset."""
    key = os.environ.get(KEY_VARIABLE)
    return deployer_account(key) if key else None


def deploy_and_write(w3: Web3, sender: Sender, network: str) -> Deployment:
    """Deploys the plan (DEPLOY_PLAN, or the devnet's mock assets), writes the deployment file and
    prints the listing."""
    plan_path = os.environ.get("DEPLOY_PLAN")
    plan = plan_from_file(Path(plan_path)) if plan_path else default_plan()
    if os.environ.get("KEEPER_ADDRESS"):
        plan = replace(plan, flash_owner=os.environ["KEEPER_ADDRESS"].strip())
    out = Path(os.environ.get("DEPLOYMENTS_DIR") or DEPLOYMENTS_DIR)
    deployment = deploy(w3, sender, plan, network=network).write(out)
    print(listing_table(deployment), flush=True)
    if deployment.uniswap is not None:
        print(uniswap_table(deployment), flush=True)
    log.info(
        "pool %s oracle %s lens %s on chain %d from block %d -> %s",
        deployment.pool,
        deployment.oracle,
        deployment.lens,
        deployment.chain_id,
        deployment.deploy_block,
        deployment.path,
    )
    return deployment


def refuse(exc: Exception) -> NoReturn:
    print(f"deploy: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    """`brownie run scripts/deploy.py`: Brownie's connection, network and unlocked accounts."""
    from brownie import accounts, network, web3
    from brownie._config import CONFIG

    _logging()
    read_dotenv()
    name = network.show_active()
    try:
        account = key_account()
        if account is not None:
            sender = Sender(web3, account=account)
        elif CONFIG.network_type == "development":
            sender = Sender(web3, address=accounts[0].address)
        else:
            raise ConfigError(
                f"network {name} is not a development network: set {KEY_VARIABLE} (environment or .env)"
            )
        deploy_and_write(web3, sender, name)
    except (ConfigError, DeployError) as exc:
        refuse(exc)


def deploy_to_url(url: str, chain_id: int | None, name: str | None) -> Deployment:
    """Deploys through any node by URL, without a Brownie network."""
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": RPC_TIMEOUT_SECONDS}))
    try:
        actual = w3.eth.chain_id
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DeployError(f"cannot reach the node at {url}: {reason[:160]}") from None
    if chain_id is not None and actual != chain_id:
        raise DeployError(f"the node at {url} is chain {actual}, not {chain_id}")
    account = key_account()
    if account is not None:
        sender = Sender(w3, account=account)
    else:
        unlocked = w3.eth.accounts
        if not unlocked:
            raise ConfigError(
                f"the node at {url} has no unlocked account: set {KEY_VARIABLE} (environment or .env)"
            )
        sender = Sender(w3, address=unlocked[0])
    return deploy_and_write(w3, sender, name or f"chain-{actual}")


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--rpc-url", help="deploy through this node (http:// or https://)")
    where.add_argument("--network", help="a Brownie network id (default: Brownie's default, development)")
    parser.add_argument("--chain-id", type=int, help="with --rpc-url: refuse unless the node is this chain")
    parser.add_argument("--name", help="with --rpc-url: the network name recorded (default chain-<id>)")
    args = parser.parse_args(argv)
    if args.rpc_url is None and (args.chain_id is not None or args.name is not None):
        parser.error("--chain-id and --name go with --rpc-url")
    if args.rpc_url is None:
        from scripts.brownie_script import run_script

        run_script(Path(__file__), args.network)
        return 0
    _logging()
    read_dotenv()
    try:
        deploy_to_url(args.rpc_url, args.chain_id, args.name)
    except (ConfigError, DeployError) as exc:
        refuse(exc)
    return 0


if __name__ == "__main__":
    sys.exit(cli())
