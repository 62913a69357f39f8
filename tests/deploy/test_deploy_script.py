"""`scripts/deploy.py` runs unchanged on Brownie's Anvil, on Ganache 7 and on a live network with the
deployer's key, uses existing tokens and feeds where a plan names them, writes the deployment file the
keeper reads, and turns every bad input into one line before it sends anything."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from eth_account import Account

from scripts.deployer import Sender, contract
from scripts.devnode import AnvilNode, GanacheNode, dev_key
from scripts.uniswap import artifact

DEPLOYER_INDEX = 5
RESERVES = ["WETH", "WBTC", "USDC", "DAI"]


def deployment_file(directory: Path, chain_id: int) -> dict:
    return json.loads((directory / f"{chain_id}.json").read_text())


def assert_stopped_with(result: subprocess.CompletedProcess[str], sentence: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert f"deploy: {sentence}" in output, output


def assert_deployed(w3, data: dict, symbols: list[str]) -> None:
    """The pool lists exactly the planned assets, prices them through the oracle, and was created
    in the recorded deploy block."""
    pool = contract(w3, "LendingPool", data["pool"])
    assert pool.functions.getReservesList().call() == [data["assets"][s]["address"] for s in symbols]
    assert pool.functions.oracle().call() == data["oracle"]
    oracle = contract(w3, "PriceOracle", data["oracle"])
    assert all(oracle.functions.getPrice(data["assets"][s]["address"]).call() > 0 for s in symbols)
    assert contract(w3, "LiquidationLens", data["lens"]).functions.pool().call() == data["pool"]
    block = data["deploy_block"]
    assert w3.eth.get_code(data["pool"], block - 1) == b""
    assert w3.eth.get_code(data["pool"], block) != b""
    assert w3.eth.get_block(block)["hash"].to_0x_hex() == data["deploy_block_hash"]


@pytest.fixture
def live_node():
    """A node Brownie treats as a live network: it attaches, and only a key can sign."""
    node = AnvilNode()
    node.start()
    yield node
    node.stop()


@pytest.fixture
def live_network(brownie_user, live_node) -> str:
    name = f"liqtest{live_node.port}"
    brownie_user.run("networks", "add", "Ethereum", name, f"host={live_node.url}", "chainid=31337")
    yield name
    brownie_user.run("networks", "delete", name)


def test_brownies_own_anvil_gets_mock_tokens_and_feeds(brownie_user, tmp_path):
    result = brownie_user.deploy(DEPLOYMENTS_DIR=str(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    data = deployment_file(tmp_path, 31337)
    assert data["network"] == "development"
    assert sorted(data["assets"]) == sorted(RESERVES)
    assert all(a["mock_token"] and a["mock_feed"] for a in data["assets"].values())
    assert {a["decimals"] for a in data["assets"].values()} == {18, 8, 6}
    assert f"on chain 31337 from block {data['deploy_block']}" in result.stdout + result.stderr


def test_ganache_already_running_is_attached_to_and_deployed_on(brownie_user, tmp_path):
    node = GanacheNode(port=brownie_user.ganache_port)
    node.start()
    try:
        result = brownie_user.deploy("--network", "ganache", DEPLOYMENTS_DIR=str(tmp_path))

        assert result.returncode == 0, result.stdout + result.stderr
        data = deployment_file(tmp_path, 1337)
        assert data["network"] == "ganache"
        w3 = node.web3()
        assert data["deployer"] == w3.eth.accounts[0]
        assert_deployed(w3, data, RESERVES)
    finally:
        node.stop()


def test_a_live_network_deploys_with_the_key_and_keeps_the_planned_tokens_and_feeds(
    brownie_user, live_node, live_network, tmp_path
):
    w3 = live_node.web3()
    issuer = Sender(w3, address=w3.eth.accounts[0])  # someone else's tokens and feeds
    weth = issuer.deploy("MockERC20", "Wrapped Ether", "WETH", 18)
    weth_feed = issuer.deploy("MockPriceFeed", 8, 2_000 * 10**8)
    usdc = issuer.deploy("MockERC20", "USD Coin", "USDC", 6)
    plan = {
        "assets": [
            {"symbol": "WETH", "decimals": 18, "price": 0, "collateral_factor": 8000,
             "max_liquidation_bonus": 10500, "token": weth.address, "feed": weth_feed.address},
            {"symbol": "USDC", "decimals": 6, "price": 10**8, "collateral_factor": 8500,
             "max_liquidation_bonus": 10400, "token": usdc.address},
        ],
        "native_price_asset": "WETH",
    }  # fmt: skip
    key = dev_key(DEPLOYER_INDEX)
    deployer = Account.from_key(key).address

    result = brownie_user.deploy(
        "--network",
        live_network,
        DEPLOYER_PRIVATE_KEY=key,
        DEPLOY_PLAN=plan_file(tmp_path, plan),
        DEPLOYMENTS_DIR=str(tmp_path),
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert key[2:] not in output
    data = deployment_file(tmp_path, 31337)
    assert data["network"] == live_network
    assert data["deployer"] == deployer
    assert data["assets"]["WETH"] | {"config": None} == {
        "address": weth.address, "decimals": 18, "feed": weth_feed.address,
        "mock_token": False, "mock_feed": False, "config": None,
    }  # fmt: skip
    assert data["assets"]["USDC"]["address"] == usdc.address
    assert (data["assets"]["USDC"]["mock_token"], data["assets"]["USDC"]["mock_feed"]) == (False, True)
    assert_deployed(w3, data, ["WETH", "USDC"])
    # oracle, pool, lens, USDC's mock feed, a setFeed and an addReserve per asset, the liquidation config
    assert w3.eth.get_transaction_count(deployer) == 3 + 1 + 2 * 2 + 1


def plan_file(directory: Path, plan: dict) -> str:
    path = directory / "plan.json"
    path.write_text(json.dumps(plan))
    return str(path)


@pytest.fixture
def refuses(brownie_user, live_node, live_network, tmp_path):
    """Runs the deploy script on the live network with a good key unless `env` says otherwise, and
    checks that it stopped with `sentence` as its one line, sent nothing and wrote no file; returns
    what it printed."""

    def check(sentence: str, **env: str) -> str:
        env = {"DEPLOYER_PRIVATE_KEY": dev_key(DEPLOYER_INDEX), "DEPLOYMENTS_DIR": str(tmp_path), **env}
        w3 = live_node.web3()
        block = w3.eth.block_number

        result = brownie_user.deploy("--network", live_network, **env)

        assert_stopped_with(result, sentence)
        assert w3.eth.block_number == block
        assert not (tmp_path / "31337.json").exists()
        return result.stdout + result.stderr

    return check


def test_a_live_network_without_a_key_is_refused(refuses, live_network):
    refuses(
        f"network {live_network} is not a development network: "
        "set DEPLOYER_PRIVATE_KEY (environment or .env)",
        DEPLOYER_PRIVATE_KEY="",
    )


def test_a_malformed_key_is_refused_without_repeating_it(refuses):
    sentence = "DEPLOYER_PRIVATE_KEY must be 32 bytes of hex (64 hex digits, 0x optional)"
    output = refuses(sentence, DEPLOYER_PRIVATE_KEY="0x1234abcd")
    assert "1234abcd" not in output


def test_a_key_without_eth_is_refused(refuses):
    pauper = Account.create()
    key = pauper.key.to_0x_hex()
    refuses(f"the deployer {pauper.address} has no ETH on chain 31337", DEPLOYER_PRIVATE_KEY=key)


def test_a_missing_plan_is_refused(refuses, tmp_path):
    refuses(f"DEPLOY_PLAN {tmp_path}/absent.json not found", DEPLOY_PLAN=str(tmp_path / "absent.json"))


def test_a_plan_without_assets_is_refused(refuses, tmp_path):
    path = plan_file(tmp_path, {"native_price_asset": "WETH"})
    refuses(f'DEPLOY_PLAN {path} must be an object with a non-empty list under "assets"', DEPLOY_PLAN=path)


def test_a_planned_token_without_code_is_refused(refuses, tmp_path):
    nobody = "0x000000000000000000000000000000000000dEaD"
    weth = {"symbol": "WETH", "decimals": 18, "price": 0, "collateral_factor": 8000,
            "max_liquidation_bonus": 10500, "token": nobody}  # fmt: skip
    path = plan_file(tmp_path, {"assets": [weth]})
    refuses(f"WETH token {nobody} has no code on chain 31337", DEPLOY_PLAN=path)


# Uniswap V3: a devnet gets its own; a live network names the existing one, checked before sending.


def existing_market(w3) -> dict:
    """Someone else's tokens, feed and Uniswap V3 deployment (from the npm bytecode), with one
    WETH/USDC pool at the 0.05% tier."""
    issuer = Sender(w3, address=w3.eth.accounts[0])
    weth = issuer.deploy("MockERC20", "Wrapped Ether", "WETH", 18)
    usdc = issuer.deploy("MockERC20", "USD Coin", "USDC", 6)
    feed = issuer.deploy("MockPriceFeed", 8, 2_000 * 10**8)
    factory = issuer.deploy_artifact("UniswapV3Factory", artifact("UniswapV3Factory"))[0]
    periphery = {
        name: issuer.deploy_artifact(name, artifact(name), *args)[0].address
        for name, args in (
            ("SwapRouter", (factory.address, weth.address)),
            ("QuoterV2", (factory.address, weth.address)),
            ("NonfungiblePositionManager", (factory.address, weth.address, weth.address)),
        )
    }
    issuer.transact(factory.functions.createPool(weth.address, usdc.address, 500))
    assets = [
        {"symbol": "WETH", "decimals": 18, "price": 0, "collateral_factor": 8000,
         "max_liquidation_bonus": 10500, "token": weth.address, "feed": feed.address},
        {"symbol": "USDC", "decimals": 6, "price": 10**8, "collateral_factor": 8500,
         "max_liquidation_bonus": 10400, "token": usdc.address},
    ]  # fmt: skip
    uniswap = {
        "factory": factory.address,
        "router": periphery["SwapRouter"],
        "quoter": periphery["QuoterV2"],
        "position_manager": periphery["NonfungiblePositionManager"],
        "pairs": [{"a": "WETH", "b": "USDC", "fee": 500}],
    }
    pool = factory.functions.getPool(weth.address, usdc.address, 500).call()
    return {"assets": assets, "uniswap": uniswap, "pool": pool}


def test_a_live_network_records_the_existing_uniswap_and_deploys_none(
    brownie_user, live_node, live_network, tmp_path
):
    w3 = live_node.web3()
    market = existing_market(w3)
    blocks_before = w3.eth.block_number
    plan = {"assets": market["assets"], "uniswap": market["uniswap"], "native_price_asset": "WETH"}

    result = brownie_user.deploy(
        "--network",
        live_network,
        DEPLOYER_PRIVATE_KEY=dev_key(DEPLOYER_INDEX),
        DEPLOY_PLAN=plan_file(tmp_path, plan),
        DEPLOYMENTS_DIR=str(tmp_path),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    data = deployment_file(tmp_path, 31337)
    assert data["uniswap"]["deployed"] is False
    assert data["uniswap"]["factory"] == market["uniswap"]["factory"]
    assert [p["address"] for p in data["uniswap"]["pools"]] == [market["pool"]]
    # The protocol's own transactions only (as without Uniswap): nothing was deployed for it.
    deployer = Account.from_key(dev_key(DEPLOYER_INDEX)).address
    assert w3.eth.get_transaction_count(deployer) == 3 + 1 + 2 * 2 + 1
    assert w3.eth.block_number > blocks_before


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        (
            {"factory": "0x000000000000000000000000000000000000dEaD"},
            "uniswap factory 0x000000000000000000000000000000000000dEaD has no code on chain 31337",
        ),
        (
            {"pairs": [{"a": "WETH", "b": "USDC", "fee": 3000}]},
            "uniswap pair WETH/USDC has no pool at fee 3000 on the factory {factory}",
        ),
        (
            {"pairs": [{"a": "WETH", "b": "USDC", "fee": 1234}]},
            "uniswap pair WETH/USDC: fee tier 1234 is not enabled on the factory {factory}",
        ),
    ],
    ids=["factory-without-code", "pair-without-pool", "fee-tier-not-enabled"],
)
def test_a_bad_existing_uniswap_is_refused_before_sending(refuses, live_node, tmp_path, change, sentence):
    market = existing_market(live_node.web3())
    uniswap = {**market["uniswap"], **change}
    path = plan_file(tmp_path, {"assets": market["assets"], "uniswap": uniswap})
    refuses(sentence.format(factory=market["uniswap"]["factory"]), DEPLOY_PLAN=path)


def test_a_fee_tier_a_new_factory_lacks_is_refused_before_sending(refuses, tmp_path):
    weth = {"symbol": "WETH", "decimals": 18, "price": 2_000 * 10**8, "collateral_factor": 8000,
            "max_liquidation_bonus": 10500}
    usdc = {"symbol": "USDC", "decimals": 6, "price": 10**8, "collateral_factor": 8500,
            "max_liquidation_bonus": 10400}  # fmt: skip
    path = plan_file(
        tmp_path, {"assets": [weth, usdc], "uniswap": {"pairs": [{"a": "WETH", "b": "USDC", "fee": 100}]}}
    )
    refuses(
        "uniswap pair WETH/USDC: fee tier 100 does not exist on a new factory (it enables 500, 3000, 10000)",
        DEPLOY_PLAN=path,
    )
