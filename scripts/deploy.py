"""Deploy liqengine and write deployments/<chainId>.json.

    brownie run scripts/deploy.py                      # Brownie's Anvil (development)
    brownie run scripts/deploy.py --network ganache    # Ganache 7 (launched by Brownie, or already on 8546)
    brownie run scripts/deploy.py --network sepolia    # a public testnet: PRIVATE_KEY in .env

On development networks the first unlocked account deploys and mock tokens and feeds are created.
Elsewhere the key comes from PRIVATE_KEY (environment, or `.env` in the working directory, as for
the keeper), and DEPLOY_PLAN may name a JSON plan with existing token and Chainlink feed addresses
(see README), so no mocks are deployed for them. DEPLOYMENTS_DIR changes where the deployment file
is written (default: deployments/ in the project).

Every problem found before the first transaction (a malformed key, a missing or malformed plan, a
planned address without code, a deployer without ETH) ends the script with one line.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from brownie import accounts, network, web3
from brownie._config import CONFIG
from dotenv import load_dotenv

from keeper.chain import account_from_key
from keeper.errors import ConfigError
from scripts.deployer import (
    DEPLOYMENTS_DIR,
    DeployError,
    Sender,
    default_plan,
    deploy,
    plan_from_file,
)


def deploying_sender(name: str) -> Sender:
    """Signs with PRIVATE_KEY when it is set; on a development network the node's first unlocked
    account deploys otherwise."""
    key = os.environ.get("PRIVATE_KEY")
    if key:
        return Sender(web3, account=account_from_key(key))
    if CONFIG.network_type == "development":
        return Sender(web3, address=accounts[0].address)
    raise ConfigError(f"network {name} is not a development network: set PRIVATE_KEY (environment or .env)")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    load_dotenv(Path.cwd() / ".env")
    name = network.show_active()
    plan_path = os.environ.get("DEPLOY_PLAN")
    out = Path(os.environ.get("DEPLOYMENTS_DIR") or DEPLOYMENTS_DIR)
    try:
        plan = plan_from_file(Path(plan_path)) if plan_path else default_plan()
        deployment = deploy(web3, deploying_sender(name), plan, network=name)
    except (ConfigError, DeployError) as exc:
        raise SystemExit(f"deploy: {exc}") from None
    path = deployment.write(out).path
    logging.getLogger("deploy").info(
        "pool %s oracle %s lens %s on chain %d from block %d -> %s",
        deployment.pool,
        deployment.oracle,
        deployment.lens,
        deployment.chain_id,
        deployment.deploy_block,
        path,
    )
