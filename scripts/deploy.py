"""Deploy liqengine and write deployments/<chainId>.json.

    brownie run scripts/deploy.py                      # Brownie's Anvil (development)
    brownie run scripts/deploy.py --network ganache    # Ganache 7 (start it first, see README)
    brownie run scripts/deploy.py --network sepolia    # a public testnet: PRIVATE_KEY in .env

On development networks the first unlocked account deploys and mock tokens and feeds are created.
Elsewhere the key comes from PRIVATE_KEY (environment or .env), and DEPLOY_PLAN may name a JSON plan
with existing token and Chainlink feed addresses (see README), so no mocks are deployed for them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from brownie import accounts, network, web3
from brownie._config import CONFIG
from dotenv import load_dotenv
from eth_account import Account

from scripts.deployer import Sender, default_plan, deploy, plan_from_file, write_deployment


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    load_dotenv()
    name = network.show_active()
    plan_path = os.environ.get("DEPLOY_PLAN")
    plan = plan_from_file(Path(plan_path)) if plan_path else default_plan()
    key = os.environ.get("PRIVATE_KEY")
    if key:
        sender = Sender(web3, account=Account.from_key(key))
    elif CONFIG.network_type == "development":
        sender = Sender(web3, address=accounts[0].address)
    else:
        raise SystemExit(f"network {name}: set PRIVATE_KEY (environment or .env) to deploy")
    deployment = deploy(web3, sender, plan, network=name)
    path = write_deployment(deployment)
    logging.getLogger("deploy").info(
        "pool %s oracle %s lens %s on chain %d from block %d -> %s",
        deployment.pool,
        deployment.oracle,
        deployment.lens,
        deployment.chain_id,
        deployment.deploy_block,
        path,
    )
