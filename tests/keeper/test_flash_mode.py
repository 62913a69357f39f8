"""Flash mode on a real chain: Uniswap V3 deployed from the npm packages' artifacts beside the protocol,
and a FlashLiquidator owned by the keeper. With no debt token at all the keeper liquidates by selling
the seized collateral in the same transaction; in auto mode it repays from inventory when it holds the
debt token; a quote that does not pay is skipped; a pool that moves against it between the simulation
and inclusion makes the liquidation revert on its minimum profit instead of losing money."""

from __future__ import annotations

import json

import pytest
from devnet import MAX_UINT, AnvilNode, Devnet, dev_key
from harness import make_keeper, rpc

from keeper.cli import main
from keeper.contracts import decode_revert, erc20, flash_liquidator
from keeper.store import FAILED, MINED
from scripts.deployer import Sender
from scripts.uniswap import uniswap_contract

KEEPER_INDEX = 10
SUPPLIER_INDEX = 11
TRADER_INDEX = 9
GWEI = 10**9


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """One Anvil for the module; each test starts from the same snapshot."""
    node = AnvilNode(accounts=12)
    node.start()
    w3 = node.web3()
    keeper = w3.eth.accounts[KEEPER_INDEX]
    net = Devnet.create(node, tmp_path_factory.mktemp("flash") / "deployments", flash_owner=keeper)
    supplier = w3.eth.accounts[SUPPLIER_INDEX]
    net.supply(supplier, "USDC", net.units("USDC", 5_000_000))
    net.supply(supplier, "DAI", net.units("DAI", 5_000_000))
    yield net
    node.stop()


@pytest.fixture
def devnet(chain):
    snapshot = rpc(chain, "evm_snapshot")
    yield chain
    rpc(chain, "evm_revert", snapshot)
    chain.owner = Sender(chain.w3, address=chain.w3.eth.accounts[0])  # its nonce count went back too


def flash(devnet: Devnet):
    info = devnet.deployment.flash_liquidator
    assert info is not None
    return flash_liquidator(devnet.w3, info.address)


def keeper_address(devnet: Devnet) -> str:
    return devnet.w3.eth.accounts[KEEPER_INDEX]


def unhealthy_borrower(devnet: Devnet, index: int = 1) -> str:
    """10 WETH against USDC at HF 1.02 at $2,000, then WETH falls to $1,900 (HF ~0.97) on the oracle
    and in every pool (an arbitrage moves each to the oracle's prices)."""
    user = devnet.borrower(index, "WETH", 10, "USDC", hf=1.02, collateral_price=2_000)
    devnet.set_price("WETH", 1_900)
    devnet.align_pools()
    return user


def sell_weth_into_the_pool(devnet: Devnet, amount: int, **fees) -> str:
    """A trader (funded and approved first) sells `amount` WETH for USDC in the WETH/USDC pool through
    the real SwapRouter; the transaction's hash, not waited for."""
    trader = devnet.w3.eth.accounts[TRADER_INDEX]
    uniswap = devnet.deployment.uniswap
    assert uniswap is not None
    weth, usdc = devnet.token("WETH"), devnet.token("USDC")
    router = uniswap_contract(devnet.w3, "SwapRouter", uniswap.router)
    params = (weth.address, usdc.address, 500, trader, 2**64, amount, 0, 0)
    tx = router.functions.exactInputSingle(params).transact({"from": trader, "gas": 1_000_000, **fees})
    return devnet.w3.to_hex(tx)


def fund_trader(devnet: Devnet, amount: int) -> None:
    trader = devnet.w3.eth.accounts[TRADER_INDEX]
    uniswap = devnet.deployment.uniswap
    assert uniswap is not None
    devnet.fund(trader, "WETH", amount)
    devnet.sender(trader).transact(devnet.token("WETH").functions.approve(uniswap.router, MAX_UINT))


def test_with_no_debt_token_the_keeper_liquidates_through_a_flash_swap(devnet, tmp_path):
    user = unhealthy_borrower(devnet)
    keeper = make_keeper(devnet, dev_key(KEEPER_INDEX), tmp_path / "k.sqlite", mode="flash")
    me = keeper_address(devnet)
    assert erc20(devnet.w3, devnet.token("USDC").address).functions.balanceOf(me).call() == 0
    keeper.start()
    report = keeper.step()
    assert report is not None and len(report.sent) == 1, report
    receipt = devnet.w3.eth.wait_for_transaction_receipt(report.sent[0])
    assert receipt["status"] == 1
    assert receipt["to"] == flash(devnet).address
    assert devnet.health_factor(user) >= 10**18
    profit = devnet.token("WETH").functions.balanceOf(flash(devnet).address).call()
    assert profit > 0, "the collateral left after the swap stays in the FlashLiquidator as profit"
    assert devnet.token("USDC").functions.balanceOf(me).call() == 0
    keeper.step()  # the receipt is polled and recorded
    [record] = keeper.store.liquidations()
    assert (record["outcome"], record["method"], record["route"]) == (
        "liquidated",
        "flash",
        "WETH -> (0.05%) USDC",
    )
    assert record["net_profit_tokens"] == profit and record["debt_bought"] == record["debt_repaid"]
    assert record["collateral_sold"] + profit == record["collateral_seized"] - record["protocol_fee"]
    # The pool was at the oracle's price: the fill is below it by the 0.05% fee and the price impact.
    assert 5 <= record["fill_vs_inclusion_bps"] < 30, record["fill_vs_inclusion_bps"]


def test_auto_mode_repays_from_inventory_when_the_keeper_holds_the_debt_token(devnet, tmp_path):
    unhealthy_borrower(devnet)
    me = keeper_address(devnet)
    devnet.fund(me, "USDC", devnet.units("USDC", 1_000_000))
    keeper = make_keeper(devnet, dev_key(KEEPER_INDEX), tmp_path / "k.sqlite", mode="auto")
    keeper.start()
    report = keeper.step()
    assert report is not None and len(report.sent) == 1, report
    receipt = devnet.w3.eth.wait_for_transaction_receipt(report.sent[0])
    assert receipt["status"] == 1
    assert receipt["to"] == devnet.deployment.pool, "inventory pays more than selling through the pool"


def test_auto_mode_goes_through_the_flash_swap_without_the_debt_token(devnet, tmp_path):
    unhealthy_borrower(devnet)
    keeper = make_keeper(devnet, dev_key(KEEPER_INDEX), tmp_path / "k.sqlite", mode="auto")
    keeper.start()
    report = keeper.step()
    assert report is not None and len(report.sent) == 1, report
    receipt = devnet.w3.eth.wait_for_transaction_receipt(report.sent[0])
    assert receipt["status"] == 1 and receipt["to"] == flash(devnet).address


def test_a_quote_that_does_not_pay_is_skipped(devnet, tmp_path):
    user = unhealthy_borrower(devnet)
    # Every pool's WETH price falls far below the oracle's: no route sells the seized WETH for the debt.
    devnet.align_pools({"WETH": 1_000})
    keeper = make_keeper(devnet, dev_key(KEEPER_INDEX), tmp_path / "k.sqlite", mode="flash")
    keeper.start()
    report = keeper.step()
    assert report is not None and report.sent == []
    assert user in report.skipped, report
    assert devnet.health_factor(user) < 10**18


def test_a_pool_moved_after_the_simulation_reverts_on_the_minimum_profit(devnet, tmp_path):
    user = unhealthy_borrower(devnet)
    keeper = make_keeper(devnet, dev_key(KEEPER_INDEX), tmp_path / "k.sqlite", mode="flash")
    keeper.start()
    fund_trader(devnet, devnet.units("WETH", 20))
    rpc(devnet, "evm_setAutomine", False)
    try:
        report = keeper.step()
        assert report is not None and len(report.sent) == 1, report
        # A trader dumping WETH with a higher tip is mined first, in the same block.
        sell_weth_into_the_pool(
            devnet, devnet.units("WETH", 20), maxPriorityFeePerGas=5_000 * GWEI, maxFeePerGas=10_000 * GWEI
        )
        rpc(devnet, "evm_mine")
    finally:
        rpc(devnet, "evm_setAutomine", True)
    receipt = devnet.w3.eth.wait_for_transaction_receipt(report.sent[0])
    assert receipt["status"] == 0
    trace = rpc(devnet, "debug_traceTransaction", report.sent[0], {"tracer": "callTracer"})
    reason = decode_revert(trace.get("output"))
    assert reason.startswith("ProfitBelowMinimum"), reason
    assert devnet.health_factor(user) < 10**18
    keeper.step()
    assert {t.status for t in keeper.store.txs()} <= {MINED, FAILED}


def cli(capsys, devnet: Devnet, tmp_path, *args: str, key: str | None = None) -> tuple[int, str, str]:
    argv = [
        *args,
        "--env-file",
        str(tmp_path / "none.env"),
        "--rpc-url",
        devnet.w3.provider.endpoint_uri,
        "--db-path",
        str(tmp_path / "k.sqlite"),
    ]
    if "--deployment" not in args:
        argv += ["--deployment", str(devnet.deployment_path)]
    env = {"PRIVATE_KEY": key or dev_key(KEEPER_INDEX)}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_status_shows_the_profit_and_withdraw_profit_moves_it_to_the_keeper(devnet, tmp_path, capsys):
    unhealthy_borrower(devnet)
    keeper = make_keeper(devnet, dev_key(KEEPER_INDEX), tmp_path / "k.sqlite", mode="flash")
    keeper.start()
    [tx] = keeper.step().sent
    devnet.w3.eth.wait_for_transaction_receipt(tx)
    keeper.store.close()
    weth = devnet.token("WETH")
    profit = weth.functions.balanceOf(flash(devnet).address).call()

    code, out, _ = cli(capsys, devnet, tmp_path, "status")
    assert code == 0 and f"FlashLiquidator {flash(devnet).address} profit: {profit / 1e18:.6g} WETH" in out

    code, out, _ = cli(capsys, devnet, tmp_path, "withdraw-profit", "--yes")
    assert code == 0, out
    assert f"withdraw {profit / 1e18} WETH ({profit} units)" in out
    assert weth.functions.balanceOf(flash(devnet).address).call() == 0
    assert weth.functions.balanceOf(keeper_address(devnet)).call() == profit


def test_flash_mode_without_a_flash_liquidator_stops_at_start_up_with_one_line(devnet, tmp_path, capsys):
    raw = json.loads(devnet.deployment_path.read_text())
    del raw["flash_liquidator"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(raw))
    code, _, err = cli(
        capsys, devnet, tmp_path, "scan", "--once", "--mode", "flash", "--deployment", str(bare)
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "--mode flash needs a FlashLiquidator" in err and "KEEPER_ADDRESS" in err


def test_a_flash_liquidator_owned_by_another_account_stops_at_start_up_with_one_line(
    devnet, tmp_path, capsys
):
    other = dev_key(KEEPER_INDEX - 1)
    code, _, err = cli(capsys, devnet, tmp_path, "run", "--mode", "flash", "--max-blocks", "1", key=other)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"is owned by {keeper_address(devnet)}, not by the keeper's account" in err
