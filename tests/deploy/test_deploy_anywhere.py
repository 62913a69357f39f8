"""The deploy script from anywhere: through any node by URL and chain id in one command, from a
checkout whose path has a dot (where `brownie run` cannot import scripts), and with its own key
(DEPLOYER_PRIVATE_KEY, never the keeper's PRIVATE_KEY). It prints one listing table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from eth_account import Account

from scripts.devnode import AnvilNode, dev_key, free_port

RESERVES = ["WETH", "WBTC", "USDC", "DAI"]


@pytest.fixture
def chain_4242():
    node = AnvilNode(extra=["--chain-id", "4242"])
    node.start()
    yield node
    node.stop()


@pytest.fixture
def keyless_node():
    """A node without unlocked accounts, as a public RPC endpoint is."""
    node = AnvilNode(accounts=0)
    node.start()
    yield node
    node.stop()


def written(directory: Path, chain_id: int) -> dict:
    return json.loads((directory / f"{chain_id}.json").read_text())


def test_any_node_by_url_and_chain_id_in_one_command(brownie_user, chain_4242, tmp_path):
    result = brownie_user.deploy(
        "--rpc-url", chain_4242.url, "--chain-id", "4242", DEPLOYMENTS_DIR=str(tmp_path)
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    data = written(tmp_path, 4242)
    assert data["chain_id"] == 4242
    assert data["network"] == "chain-4242"
    assert data["deployer"] == chain_4242.web3().eth.accounts[0]
    assert sorted(data["assets"]) == sorted(RESERVES)


def test_the_listing_is_one_table_with_every_factor_in_percent(brownie_user, chain_4242, tmp_path):
    result = brownie_user.deploy("--rpc-url", chain_4242.url, DEPLOYMENTS_DIR=str(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    data = written(tmp_path, 4242)
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("symbol"))
    assert re.split(r"\s{2,}", lines[header]) == [
        "symbol", "address", "decimals", "collateral factor", "borrow factor", "max bonus",
        "rate model (APR by utilisation)",
    ]  # fmt: skip
    rows = {
        row.split()[0]: re.split(r"\s{2,}", row) for row in lines[header + 1 : header + 1 + len(RESERVES)]
    }
    assert rows["WETH"] == [
        "WETH", data["assets"]["WETH"]["address"], "18", "80.00%", "75.00%", "5.00%",
        "0.00% -> 4.00% at 80.00% -> 64.00% at 100%",
    ]  # fmt: skip
    assert rows["WBTC"][2:6] == ["8", "75.00%", "70.00%", "8.00%"]
    assert rows["USDC"][2:6] == ["6", "85.00%", "80.00%", "4.00%"]
    assert rows["DAI"][6] == "0.00% -> 5.00% at 80.00% -> 65.00% at 100%"
    assert "deployed MockERC20" not in result.stdout + result.stderr
    # Then the Uniswap V3 pools flash liquidations swap through, one line each.
    uniswap = data["uniswap"]
    title = lines[header + 1 + len(RESERVES)]
    assert title.startswith(f"Uniswap V3 (deployed here): factory {uniswap['factory']}")
    pool_lines = lines[header + 2 + len(RESERVES) :]
    assert [line.split()[-1] for line in pool_lines] == [p["address"] for p in uniswap["pools"]]
    assert set(pool_lines[0].split()[0].split("/")) == {"WETH", "USDC"}
    assert pool_lines[0].split()[1:3] == ["fee", "0.05%"]


def test_a_node_on_another_chain_is_refused_before_sending(brownie_user, chain_4242, tmp_path):
    block = chain_4242.web3().eth.block_number

    result = brownie_user.deploy(
        "--rpc-url", chain_4242.url, "--chain-id", "1", DEPLOYMENTS_DIR=str(tmp_path)
    )

    assert result.returncode == 2
    assert result.stderr.strip() == f"deploy: the node at {chain_4242.url} is chain 4242, not 1"
    assert chain_4242.web3().eth.block_number == block
    assert not list(tmp_path.glob("*.json"))


def test_an_unreachable_node_is_one_line(brownie_user, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"

    result = brownie_user.deploy("--rpc-url", url, DEPLOYMENTS_DIR=str(tmp_path))

    assert result.returncode == 2
    assert result.stderr.startswith(f"deploy: cannot reach the node at {url}: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_node_without_unlocked_accounts_needs_the_deployer_key(brownie_user, keyless_node, tmp_path):
    refused = brownie_user.deploy("--rpc-url", keyless_node.url, DEPLOYMENTS_DIR=str(tmp_path))
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"deploy: the node at {keyless_node.url} has no unlocked account: "
        "set DEPLOYER_PRIVATE_KEY (environment or .env)"
    )

    key = dev_key(5)
    deployer = Account.from_key(key).address
    keyless_node.web3().provider.make_request("anvil_setBalance", [deployer, hex(10**20)])
    result = brownie_user.deploy(
        "--rpc-url", keyless_node.url, DEPLOYER_PRIVATE_KEY=key, DEPLOYMENTS_DIR=str(tmp_path)
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert written(tmp_path, 31337)["deployer"] == deployer
    assert key[2:] not in result.stdout + result.stderr


def test_the_keepers_private_key_is_never_the_deployers(brownie_user, keyless_node, tmp_path):
    key = dev_key(5)
    keyless_node.web3().provider.make_request(
        "anvil_setBalance", [Account.from_key(key).address, hex(10**20)]
    )

    result = brownie_user.deploy(
        "--rpc-url", keyless_node.url, PRIVATE_KEY=key, DEPLOYMENTS_DIR=str(tmp_path)
    )

    assert result.returncode == 2
    assert "set DEPLOYER_PRIVATE_KEY" in result.stderr
    assert keyless_node.web3().eth.block_number == 0


def test_the_deploy_runs_from_a_path_with_dots(brownie_user, copy_project, tmp_path):
    project = copy_project(tmp_path / "work.v2" / "liqengine")
    out = tmp_path / "deployments"

    result = brownie_user.deploy(cwd=project, DEPLOYMENTS_DIR=str(out))

    assert result.returncode == 0, result.stdout + result.stderr
    assert written(out, 31337)["network"] == "development"
    # what the wrapper is for: Brownie's own runner imports the script as `...work.v2.liqengine...`
    refused = brownie_user.brownie_run_deploy(cwd=project, DEPLOYMENTS_DIR=str(tmp_path / "other"))
    assert refused.returncode != 0
    assert "ModuleNotFoundError" in refused.stdout + refused.stderr


def test_brownie_run_deploys_where_the_path_has_no_dot(brownie_user, copy_project, tmp_path):
    project = copy_project(tmp_path / "liqengine")
    if "." in str(project):
        pytest.skip(f"the temporary folder {project} has a dot, where `brownie run` cannot import scripts")
    out = tmp_path / "deployments"

    result = brownie_user.brownie_run_deploy(cwd=project, DEPLOYMENTS_DIR=str(out))

    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(written(out, 31337)["assets"]) == sorted(RESERVES)
