"""`python scripts/devnet.py` on Anvil, as the README's devnet recipe uses it: seed borrowers, set a
price, make a named account unhealthy, show an account, mint tokens; every problem is one line and
exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from keeper.contracts import abi
from scripts.deployer import Sender, default_plan, deploy
from scripts.devnet import NAMESPACE
from scripts.devnode import AnvilNode
from scripts.population import borrower_address

WAD = 10**18
ROOT = Path(__file__).resolve().parents[2]


class DevnetCli:
    def __init__(self, node: AnvilNode, deployment):
        self.node = node
        self.deployment = deployment
        self.w3 = node.web3()
        self.pool = self.w3.eth.contract(address=deployment.pool, abi=abi("LendingPool"))

    def __call__(
        self, *args: str, cwd=None, script: str = "scripts/devnet.py"
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                script,
                "--rpc-url",
                self.node.url,
                "--deployment",
                str(self.deployment.path),
                *args,
            ],
            cwd=cwd or ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def health_factor(self, user: str) -> int:
        return self.pool.functions.getUserAccountData(user).call()[2]

    def price(self, symbol: str) -> int:
        feed = self.w3.eth.contract(
            address=self.deployment.asset_by_symbol(symbol).feed, abi=abi("MockPriceFeed")
        )
        return feed.functions.latestAnswer().call()


@pytest.fixture
def devnet(tmp_path):
    """Anvil as `anvil` starts it (1 gwei base fee, automine), with the protocol deployed."""
    node = AnvilNode()
    node.start()
    try:
        w3 = node.web3()
        deployment = deploy(w3, Sender(w3, address=w3.eth.accounts[0]), default_plan()).write(
            tmp_path / "project" / "deployments"
        )
        yield DevnetCli(node, deployment)
    finally:
        node.stop()


def test_seed_puts_borrowers_on_chain_within_the_health_factor_range(devnet):
    result = devnet("seed", "4", "--seed", "3", "--hf-min", "1.2", "--hf-max", "1.5")

    assert result.returncode == 0, result.stdout + result.stderr
    borrowers = [borrower_address(NAMESPACE + 3, i) for i in range(4)]
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == borrowers
    for user in borrowers:
        assert 1.19 * WAD < devnet.health_factor(user) < 1.51 * WAD
    assert {line.split()[4] for line in lines} <= {"USDC", "DAI"}  # debt in the $1 assets
    assert devnet.w3.eth.get_block("latest")["gasLimit"] == 30_000_000  # the node's limit is put back
    assert devnet.w3.provider.make_request("anvil_getAutomine", [])["result"] is True


def test_seeding_the_same_borrowers_twice_is_refused(devnet):
    assert devnet("seed", "2").returncode == 0

    again = devnet("seed", "2")

    assert again.returncode == 2
    assert again.stderr.strip() == "devnet: the borrowers of --seed 1 exist already: pass another --seed"


def test_set_price_publishes_on_the_mock_feed(devnet):
    result = devnet("set-price", "WETH", "1500.5")

    assert result.returncode == 0, result.stderr
    assert devnet.price("WETH") == 1500_50000000
    assert result.stdout.startswith("WETH $2,000.00 -> $1,500.50 in block ")


def test_set_price_of_an_unknown_asset_is_one_line(devnet):
    result = devnet("set-price", "XYZ", "1")

    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"devnet: XYZ is not an asset of {devnet.deployment.path} (DAI, USDC, WBTC, WETH)"
    )


def test_unhealthy_brings_the_named_account_to_the_asked_health_factor(devnet):
    assert devnet("seed", "3", "--seed", "4").returncode == 0
    user = borrower_address(NAMESPACE + 4, 1)

    result = devnet("unhealthy", user, "--hf", "0.9")

    assert result.returncode == 0, result.stderr
    assert 0.85 * WAD < devnet.health_factor(user) <= 0.9 * WAD
    assert result.stdout.startswith(f"{user}: health factor ")


def test_unhealthy_refuses_an_account_without_debt(devnet):
    nobody = devnet.w3.eth.accounts[7]

    result = devnet("unhealthy", nobody)

    assert result.returncode == 2
    assert result.stderr.strip() == f"devnet: {nobody} has no debt: no price makes it unhealthy"


def test_show_prints_the_health_factor_and_every_position(devnet):
    assert devnet("seed", "1", "--seed", "5").returncode == 0
    user = borrower_address(NAMESPACE + 5, 0)
    assert devnet("unhealthy", user).returncode == 0

    result = devnet("show", user)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"account {user}"
    assert lines[1] == f"health factor {devnet.health_factor(user) / WAD:.4f}  LIQUIDATABLE"
    assert lines[3].split() == ["asset", "supplied", "borrowed", "price", "collateral"]
    assert len(lines) == 6  # one collateral, one debt


def test_mint_gives_an_account_mock_tokens(devnet):
    keeper = devnet.w3.eth.accounts[9]

    result = devnet("mint", keeper, "USDC", "1250.5")

    assert result.returncode == 0, result.stderr
    token = devnet.w3.eth.contract(
        address=devnet.deployment.asset_by_symbol("USDC").address, abi=abi("MockERC20")
    )
    assert token.functions.balanceOf(keeper).call() == 1250_500000
    assert result.stdout.strip() == f"{keeper}: 1,250.500000 USDC"


def test_a_bad_address_and_an_unreachable_node_are_one_line(devnet):
    bad = devnet("show", "0x12")
    assert (bad.returncode, bad.stderr.strip()) == (2, "devnet: '0x12' is not an address")

    devnet.node.stop()
    gone = devnet("show", "0x" + "11" * 20)
    assert gone.returncode == 2
    assert gone.stderr.startswith(f"devnet: cannot reach the node at {devnet.node.url}: ")


def test_the_commands_run_from_a_path_with_dots(devnet, copy_project, tmp_path):
    project = copy_project(tmp_path / "work.v2" / "liqengine")

    result = devnet("show", devnet.w3.eth.accounts[1], cwd=project)

    assert result.returncode == 0, result.stderr
    assert "no positions" in result.stdout
