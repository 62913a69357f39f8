"""`liqkeeper liquidate` shows every transaction it will send, the debt token's approval included
(token, spender, amount), before its one question; on "n" it sends nothing. `--approve` chooses an
exact or an unlimited approval. `run`'s start-up approvals go out in one batch, so in one block."""

from __future__ import annotations

import builtins
import re

from harness import make_keeper, rpc

from keeper.cli import main
from keeper.maths import MAX_UINT256

WAD = 10**18


def liquidate(
    devnet, tmp_path, monkeypatch, capsys, user: str, answer: str, *flags: str
) -> tuple[int, str, str]:
    """Runs `liqkeeper liquidate` answering `answer`; (exit code, text before the question, after)."""
    asked: list[str] = []

    def fake_input(prompt: str) -> str:
        asked.append(capsys.readouterr().out + prompt)
        return answer

    monkeypatch.setattr(builtins, "input", fake_input)
    code = main(
        [
            "liquidate",
            "--user",
            user,
            "--env-file",
            str(tmp_path / "none.env"),
            "--rpc-url",
            devnet.w3.provider.endpoint_uri,
            "--deployment",
            str(devnet.deployment_path),
            "--db-path",
            str(tmp_path / "k.sqlite"),
            *flags,
        ]
    )
    assert len(asked) == 1
    return code, asked[0], capsys.readouterr().out


def crashed_borrower(devnet) -> str:
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    devnet.set_price("WETH", 1900)
    return alice


def test_answering_no_sends_nothing_not_even_an_approval(devnet, keeper_key, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRIVATE_KEY", keeper_key)
    alice = crashed_borrower(devnet)
    keeper = devnet.w3.eth.accounts[10]
    nonce = devnet.w3.eth.get_transaction_count(keeper)

    code, before, after = liquidate(devnet, tmp_path, monkeypatch, capsys, alice, "n")

    assert code == 1 and "nothing sent" in after
    usdc, pool = devnet.token("USDC").address, devnet.pool.address
    approve_line = re.search(rf"1\. approve USDC \({usdc}\): spender {pool}, amount (\S+) USDC", before)
    assert approve_line, before
    assert f"2. liquidate {alice} on pool {pool}" in before
    assert before.rstrip().endswith("send these 2 transaction(s)? [y/N]")
    assert devnet.w3.eth.get_transaction_count(keeper) == nonce
    assert devnet.token("USDC").functions.allowance(keeper, pool).call() == 0
    assert devnet.health_factor(alice) < WAD


def test_exact_approval_is_the_shown_amount_and_then_liquidates(
    devnet, keeper_key, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("PRIVATE_KEY", keeper_key)
    alice = crashed_borrower(devnet)
    keeper, pool = devnet.w3.eth.accounts[10], devnet.pool.address

    code, before, _ = liquidate(devnet, tmp_path, monkeypatch, capsys, alice, "y")

    assert code == 0
    units = int(re.search(r"amount \S+ USDC \((\d+) units\)", before).group(1))
    assert devnet.health_factor(alice) >= WAD
    left = devnet.token("USDC").functions.allowance(keeper, pool).call()
    assert 0 <= left < units // 100  # the margin for interest, not a standing allowance
    for other in (a.symbol for a in devnet.deployment.assets if a.symbol != "USDC"):
        assert devnet.token(other).functions.allowance(keeper, pool).call() == 0


def test_unlimited_approval_is_shown_as_such(devnet, keeper_key, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRIVATE_KEY", keeper_key)
    alice = crashed_borrower(devnet)
    keeper, pool = devnet.w3.eth.accounts[10], devnet.pool.address

    code, before, _ = liquidate(devnet, tmp_path, monkeypatch, capsys, alice, "y", "--approve", "unlimited")

    assert code == 0
    assert "amount unlimited (2^256-1)" in before
    assert devnet.token("USDC").functions.allowance(keeper, pool).call() >= MAX_UINT256 // 2


def test_run_start_up_approvals_go_out_in_one_block(devnet, keeper_key, tmp_path):
    rpc(devnet, "evm_setAutomine", False)
    rpc(devnet, "evm_setIntervalMining", 1)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()
    rpc(devnet, "evm_setIntervalMining", 0)
    rpc(devnet, "evm_setAutomine", True)

    address, pool = keeper.ctx.address, devnet.pool.address
    assets = [asset.address for asset in keeper.ctx.deployment.assets]
    assert all(keeper.wallet.approval(pool, a, a, 0, MAX_UINT256 // 2, "unlimited") is None for a in assets)
    approvals = [t for t in keeper.store.txs() if t.intent.startswith("approve:")]
    assert len(approvals) == len(assets) and address is not None
    blocks = {devnet.w3.eth.get_transaction_receipt(t.hash)["blockNumber"] for t in approvals}
    assert len(blocks) == 1, blocks
