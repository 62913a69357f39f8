"""A price update makes accounts liquidatable and the keeper liquidates them in the next block,
in profit order, with the profit gate and the dust/deficit switch."""

from __future__ import annotations

from harness import make_keeper, run_until_idle

WAD = 10**18


def test_price_drop_is_liquidated_in_the_next_block(devnet, keeper_key, tmp_path):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()
    assert not any(r.sent or r.candidates for r in run_until_idle(keeper))  # all healthy

    price_block = devnet.set_price("WETH", 1900)
    assert devnet.health_factor(alice) < WAD
    report = keeper.step()
    assert report.candidates == [alice]
    assert len(report.sent) == 1
    receipt = devnet.w3.eth.get_transaction_receipt(report.sent[0])
    assert receipt["status"] == 1
    assert receipt["blockNumber"] == price_block + 1
    assert devnet.health_factor(alice) >= 105 * WAD // 100

    run_until_idle(keeper)
    records = keeper.store.liquidations()
    assert len(records) == 1
    record = records[0]
    assert record["outcome"] == "liquidated"
    assert record["delay_blocks"] == 1
    assert record["reached_target"] is True
    assert record["trigger_block"] == price_block


def test_several_accounts_are_liquidated_most_profitable_first(devnet, keeper_key, tmp_path):
    small = devnet.borrower(1, "WETH", 2, "USDC", hf=1.03, collateral_price=2000)
    large = devnet.borrower(2, "WETH", 40, "USDC", hf=1.03, collateral_price=2000)
    medium = devnet.borrower(3, "WETH", 10, "USDC", hf=1.03, collateral_price=2000)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()
    devnet.set_price("WETH", 1900)
    report = keeper.step()
    assert sorted(report.candidates) == sorted([small, large, medium])
    sent_users = [keeper.store.tx(h).intent.split(":")[1] for h in report.sent]
    assert sent_users == [large, medium, small]
    nonces = [keeper.store.tx(h).nonce for h in report.sent]
    assert nonces == sorted(nonces) and len(set(nonces)) == 3
    for account in (small, large, medium):
        assert devnet.health_factor(account) >= WAD


def test_unprofitable_account_is_skipped_under_min_profit(devnet, keeper_key, tmp_path):
    alice = devnet.borrower(1, "WETH", 1, "USDC", hf=1.01, collateral_price=2000)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite", min_profit_usd="100")
    keeper.start()
    devnet.set_price("WETH", 1960)
    report = keeper.step()
    assert report.candidates == [alice]
    assert report.sent == []
    assert report.skipped[alice] == "below min profit"
    assert devnet.health_factor(alice) < WAD


def test_unprofitable_dust_is_cleared_when_the_switch_is_on(devnet, keeper_key, tmp_path):
    alice = devnet.borrower(1, "WETH", 0.5, "USDC", hf=1.01, collateral_price=2000)
    keeper = make_keeper(
        devnet,
        keeper_key,
        tmp_path / "k.sqlite",
        min_profit_usd="100",
        clear_dust_and_deficits=True,
    )
    keeper.start()
    devnet.set_price("WETH", 1960)
    report = keeper.step()
    assert len(report.sent) == 1
    _, debt, _ = devnet.position(alice, "USDC")
    assert debt == 0  # the whole (dust-sized) debt was repaid


def test_dry_run_sends_nothing(devnet, tmp_path, keeper_key):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite", dry_run=True)
    operator = devnet.sender(keeper.ctx.address)  # the operator approved the pool beforehand
    operator.transact(devnet.token("USDC").functions.approve(devnet.deployment.pool, 2**256 - 1))
    keeper.start()
    nonce_before = devnet.w3.eth.get_transaction_count(keeper.ctx.address)
    devnet.set_price("WETH", 1900)
    report = keeper.step()
    assert report.sent == [f"dry-run:{alice}"]
    assert devnet.w3.eth.get_transaction_count(keeper.ctx.address) == nonce_before
    assert devnet.health_factor(alice) < WAD


def test_a_liquidation_that_would_revert_is_not_sent_and_the_error_is_named(devnet, keeper_key, tmp_path):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()
    weth = devnet.token("WETH").address
    devnet.owner.transact(devnet.pool.functions.setReservePaused(weth, True))
    nonce_before = devnet.w3.eth.get_transaction_count(keeper.ctx.address)
    devnet.set_price("WETH", 1900)

    report = keeper.step()

    assert report.candidates == [alice]
    assert report.sent == []
    assert report.skipped[alice] == f"ReservePaused('{weth.lower()}')"
    assert devnet.w3.eth.get_transaction_count(keeper.ctx.address) == nonce_before


def test_restart_resumes_from_checkpoint_and_sends_nothing_twice(devnet, keeper_key, tmp_path):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    db = tmp_path / "k.sqlite"
    first = make_keeper(devnet, keeper_key, db)
    first.start()
    devnet.set_price("WETH", 1900)
    assert len(first.step().sent) == 1
    checkpoint = first.store.checkpoint()
    first.store.close()

    bob = devnet.borrower(2, "WETH", 10, "USDC", hf=1.5, collateral_price=1900)
    second = make_keeper(devnet, keeper_key, db)
    scanned = []
    original_scan = second.discovery.scan
    second.discovery.scan = lambda a, b: scanned.append((a, b)) or original_scan(a, b)
    second.start()
    assert scanned[0][0] == checkpoint[0] + 1  # not from the deploy block
    assert bob in second.model.accounts
    run_until_idle(second)
    liquidations = [t for t in second.store.txs() if t.kind == "liquidate"]
    assert len(liquidations) == 1
    assert devnet.health_factor(alice) >= WAD


def test_a_liquidation_counts_as_done_only_after_the_configured_confirmations(devnet, keeper_key, tmp_path):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite", confirmations=3)
    keeper.start()
    devnet.set_price("WETH", 1900)
    sent = keeper.step().sent
    assert len(sent) == 1 and devnet.health_factor(alice) >= WAD  # included at once (automine)
    keeper.step()
    assert keeper.store.tx(sent[0]).status == "pending" and keeper.store.liquidations() == []
    devnet.w3.provider.make_request("anvil_mine", [2])
    keeper.step()
    assert keeper.store.tx(sent[0]).status == "mined"
    assert len(keeper.store.liquidations()) == 1


def test_a_deficit_left_by_exhausted_collateral_is_settled_by_the_liquidation(devnet, keeper_key, tmp_path):
    usdc = devnet.token("USDC").address
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()
    run_until_idle(keeper)

    devnet.set_price("WETH", 1500)  # $15,000 of collateral against ~$15,686 of debt
    run_until_idle(keeper)
    records = keeper.store.liquidations()
    assert [r["deficit_reported"] for r in records] == [True]
    assert devnet.position(alice, "WETH")[0] == 0 and devnet.position(alice, "USDC")[1] == 0

    # protocol.md v2 section 6: the liquidation that reports the deficit settles it, so the keeper has
    # nothing left to settle.
    assert devnet.pool.functions.deficit(usdc).call() == 0
    assert [t for t in keeper.store.txs() if t.kind == "settle"] == []


def test_a_deficit_left_on_a_paused_reserve_is_settled_after_the_unpause(devnet, keeper_key, tmp_path):
    """A deficit on a reserve that is paused when the liquidation reports it stays recorded (section 6,
    v2): the keeper settles it with settleDeficit once the reserve is unpaused."""
    usdc, dai = devnet.token("USDC").address, devnet.token("DAI").address
    alice = devnet.w3.eth.accounts[1]
    devnet.supply(alice, "WETH", devnet.units("WETH", 10))
    devnet.borrow_past_the_borrow_factor(alice, "WETH", "USDC", devnet.units("USDC", 14_500))
    devnet.borrow_past_the_borrow_factor(alice, "WETH", "DAI", devnet.units("DAI", 500))
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()
    run_until_idle(keeper)

    devnet.owner.transact(devnet.pool.functions.setReservePaused(dai, True))
    devnet.set_price("WETH", 1500)  # USDC alone takes all the WETH: the DAI debt is written off
    run_until_idle(keeper)
    assert [r["deficit_reported"] for r in keeper.store.liquidations()] == [True]
    deficit = devnet.pool.functions.deficit(dai).call()
    assert deficit > 0 and devnet.pool.functions.deficit(usdc).call() == 0
    assert [t for t in keeper.store.txs() if t.kind == "settle"] == []  # paused: nothing to send

    devnet.owner.transact(devnet.pool.functions.setReservePaused(dai, False))
    run_until_idle(keeper)
    assert devnet.pool.functions.deficit(dai).call() == 0
    settle = [t for t in keeper.store.txs() if t.kind == "settle"]
    assert len(settle) == 1 and settle[0].status == "mined"


def test_an_account_whose_first_pair_exhausts_a_reserve_gets_its_next_pair_in_the_same_block(
    devnet, keeper_key, tmp_path
):
    """10 WETH and 0.2 WBTC against 22,000 USDC: after WETH -50% (HF ~0.77) the best liquidation
    (WBTC) takes all the WBTC and leaves the account liquidatable, so the WETH one goes out with it."""
    user = devnet.w3.eth.accounts[1]
    devnet.supply(user, "WETH", devnet.units("WETH", 10))
    devnet.supply(user, "WBTC", devnet.units("WBTC", 0.2))
    devnet.borrow(user, "USDC", devnet.units("USDC", 22_000))
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()
    devnet.set_price("WETH", 1_000)
    assert devnet.health_factor(user) < 8 * WAD // 10
    from harness import rpc

    rpc(devnet, "evm_setAutomine", False)
    try:
        report = keeper.step()
        rpc(devnet, "evm_mine")
    finally:
        rpc(devnet, "evm_setAutomine", True)
    pairs = sorted(keeper.store.tx(h).intent.split(":")[2] for h in report.sent)
    weth, wbtc = devnet.token("WETH").address, devnet.token("WBTC").address
    assert pairs == sorted([weth, wbtc]), report
    receipts = [devnet.w3.eth.get_transaction_receipt(h) for h in report.sent]
    assert [r["status"] for r in receipts] == [1, 1]
    assert len({r["blockNumber"] for r in receipts}) == 1  # both in one block
    assert devnet.position(user, "WBTC")[0] == 0
