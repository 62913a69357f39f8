"""`make test` runs the contract tests on the project's own Brownie network (`liqengine-dev`, added by
`make setup`), so a node left on Brownie's `development` port (8545 by default: the README's devnet
recipe used to leave an Anvil there) never breaks them, and a node on the project network's own port
stops the run with one line instead of being attached to.

Brownie's configuration lives in a temporary HOME where `development` is moved to a free port, which
stands in for 8545: the tests never touch the fixed ports."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scripts.devnode import AnvilNode

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_TEST = "tests/contracts/test_deployment.py"
MAKE_TIMEOUT_SECONDS = 600


def make(brownie_user, *args: str) -> subprocess.CompletedProcess[str]:
    """`make ARGS` as a user in the test's HOME types it; the outer make's variables stay out."""
    env = brownie_user.env()
    for inherited in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "BROWNIE_NETWORK", "CONTRACT_TESTS", "PYTEST_ARGS"):
        env.pop(inherited, None)
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=MAKE_TIMEOUT_SECONDS,
    )


@pytest.fixture
def squatter(brownie_user):
    """An unrelated node on the development port, charging a base fee Brownie's zero-priced
    development transactions cannot pay."""
    node = AnvilNode(port=brownie_user.development_port, extra=["--block-base-fee-per-gas", "1000000000"])
    node.start()
    yield node
    node.stop()


def test_a_node_on_the_development_port_does_not_break_make_tests_contract_run(brownie_user, squatter):
    result = make(brownie_user, "test-contracts", f"CONTRACT_TESTS={CONTRACT_TEST}")

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "2 passed" in result.stdout
    assert f"--port {brownie_user.liqengine_dev_port}" in result.stdout  # Brownie launched its own Anvil


def test_on_the_development_network_the_same_tests_attach_to_that_node_and_fail(brownie_user, squatter):
    result = brownie_user.run("test", CONTRACT_TEST)

    assert result.returncode != 0
    assert "Launching" not in result.stdout
    assert "max fee per gas less than block base fee" in result.stdout + result.stderr


def test_a_node_on_the_project_networks_own_port_stops_the_run_in_one_line(brownie_user):
    node = AnvilNode(port=brownie_user.liqengine_dev_port)
    node.start()
    try:
        result = make(brownie_user, "test-contracts", f"CONTRACT_TESTS={CONTRACT_TEST}")
    finally:
        node.stop()

    assert result.returncode != 0
    assert (
        f"require_free_port: port {brownie_user.liqengine_dev_port} of Brownie network liqengine-dev is "
        "already in use" in result.stderr
    )
    assert "passed" not in result.stdout
