"""LiquidationLens: health factors of many accounts in one `eth_call`, protocol.md section 9.
`getHealthFactors` returns them in input order (max uint without debt); `getLiquidatable` returns
the accounts below 1e18 with their health factors, in input order. One call handles 500 borrowers
well inside the 30M block gas limit."""

import time

import pytest
from brownie import accounts, web3
from liquidation_helpers import MAX, RAY, WAD, account_state, open_position

from tests.reference import protocol_math as pm

E18 = 10**18
BLOCK_GAS_LIMIT = 30_000_000


@pytest.fixture
def mixed(market, alice, bob, carol):
    """alice liquidatable, bob healthy, carol only supplies, accounts[6] has nothing."""
    p = market
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 16_100 * E18})
    open_position(p, bob, {"WETH": 10 * E18, "WBTC": 10**7}, {"DAI": 5_000 * E18,
                                                             "USDC": 3_000 * 10**6})
    p.supply(carol, "USDC", 1_000 * 10**6)
    return p


def test_health_factors_are_returned_in_input_order(mixed, alice, bob, carol):
    p = mixed
    nobody = accounts[6]
    users = [bob, alice, nobody, carol, alice]
    expected = [account_state(p, u).health_factor for u in users]
    assert expected[1] == 993788819875776397
    assert expected[2] == expected[3] == MAX
    assert list(p.lens.getHealthFactors(users)) == expected
    assert list(p.pool.getHealthFactors(users)) == expected
    assert [p.health_factor(u) for u in users] == expected


def test_get_liquidatable_returns_the_accounts_below_one(mixed, alice, bob, carol):
    p = mixed
    users = [bob, alice, carol, alice]
    liquidatable, hfs = p.lens.getLiquidatable(users)
    assert list(liquidatable) == [alice, alice]
    assert list(hfs) == [993788819875776397, 993788819875776397]


def test_an_account_at_exactly_one_is_not_liquidatable(market, alice):
    """10 WETH at $2,000 with CF 80% against 16,000 DAI: HF exactly 1e18."""
    p = market
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 16_000 * E18})
    assert tuple(p.lens.getHealthFactors([alice])) == (WAD,)
    assert tuple(p.lens.getLiquidatable([alice])) == ((), ())
    p.set_price("WETH", 2_000 * 10**8 - 1)
    assert list(p.lens.getLiquidatable([alice])[0]) == [alice]


def test_empty_input_gives_empty_output(market):
    assert tuple(market.lens.getHealthFactors([])) == ()
    assert tuple(market.lens.getLiquidatable([])) == ((), ())


def _rpc(method, params):
    response = web3.provider.make_request(method, params)
    assert "error" not in response, response
    return response.get("result")


def _send(sender, to, data):
    """eth_sendTransaction without brownie's bookkeeping (gas price 0; the base fee is 0)."""
    return _rpc("eth_sendTransaction", [{"from": sender, "to": str(to), "data": data,
                                          "gas": hex(400_000), "gasPrice": "0x0"}])


def test_one_call_handles_500_accounts(market, supplier):
    """500 borrowers, each 1 WETH of collateral and 1,000 to 1,588 DAI of debt. WETH falls to
    $1,800 (weighted collateral $1,440): those owing more than 1,440 DAI are liquidatable."""
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    count = 500
    users = [web3.to_checksum_address(f"0x{0xA11CE000 + i:040x}") for i in range(count)]
    debts = [(1_000 + (i * 37) % 589) * E18 for i in range(count)]

    p.mint_and_approve(supplier, "WETH", count * E18)
    _rpc("anvil_autoImpersonateAccount", [True])
    try:
        for user in users:
            _send(str(supplier), p.pool, p.pool.supply.encode_input(weth, E18, user))
        for user, debt in zip(users, debts, strict=True):
            last = _send(user, p.pool, p.pool.borrow.encode_input(dai, debt))
        # Anvil mines them in order; wait for the last one.
        for _ in range(200):
            receipt = _rpc("eth_getTransactionReceipt", [last])
            if receipt:
                break
            time.sleep(0.05)
        assert receipt and int(receipt["status"], 16) == 1
    finally:
        _rpc("anvil_autoImpersonateAccount", [False])
    assert p.pool.getUserPosition(users[-1], dai)[1] == debts[-1], "every borrow went through"

    p.set_price("WETH", 1_800 * 10**8)
    weighted = 80_00 * pm.to_value(E18, 18, 1_800 * 10**8)
    expected_hfs = [pm.health_factor(weighted, pm.to_value(d * RAY, 18, 10**8)) for d in debts]
    expected = [(u, hf) for u, hf in zip(users, expected_hfs, strict=True) if hf < WAD]
    assert 0 < len(expected) < count

    assert list(p.lens.getHealthFactors(users)) == expected_hfs
    liquidatable, hfs = p.lens.getLiquidatable(users)
    assert list(zip(liquidatable, hfs, strict=True)) == expected
    gas = p.lens.getLiquidatable.estimate_gas(users)
    print(f"getLiquidatable({count} accounts): {gas} gas")
    assert gas < BLOCK_GAS_LIMIT
