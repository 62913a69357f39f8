"""LiquidationLens: health factors of many accounts in one `eth_call`, protocol.md section 9.
`getHealthFactors` returns them in input order (max uint without debt); `getLiquidatable` returns
the accounts below 1e18 with their health factors, in input order. One call handles 500 borrowers
well inside the 30M block gas limit. An account whose health factor cannot be read (a stale or
reverting price of a reserve it uses) is flagged (`getHealthFactorsChecked`,
`getLiquidatableChecked`), never listed as liquidatable, and the other accounts still answer."""


import brownie
import pytest
from brownie import MockAggregatorProxy, accounts, web3
from liquidation_helpers import MAX, PRICE_MAX_AGE, RAY, WAD, account_state, open_position

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


def seed_weth_borrowers(p, supplier, count: int) -> tuple[list[str], list[int]]:
    """`count` borrowers, each 1 WETH of collateral and 1,000 to 1,588 DAI of debt, opened through
    impersonation without Brownie's bookkeeping; (users, DAI debts)."""
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    users = [web3.to_checksum_address(f"0x{0xA11CE000 + i:040x}") for i in range(count)]
    debts = [(1_000 + (i * 37) % 589) * E18 for i in range(count)]

    p.mint_and_approve(supplier, "WETH", count * E18)
    _rpc("anvil_autoImpersonateAccount", [True])
    try:
        for user in users:
            _send(str(supplier), p.pool, p.pool.supply.encode_input(weth, E18, user))
        for user, debt in zip(users, debts, strict=True):
            # A supply on someone else's behalf does not enable collateral: each borrower does.
            _send(user, p.pool, p.pool.setUsingAsCollateral.encode_input(weth, True))
            last = _send(user, p.pool, p.pool.borrow.encode_input(dai, debt))
        # Anvil mines them in order; wait for the last one (generously: a busy machine is slow).
        receipt = web3.eth.wait_for_transaction_receipt(last, timeout=300, poll_latency=0.05)
        assert receipt["status"] == 1
    finally:
        _rpc("anvil_autoImpersonateAccount", [False])
    assert p.pool.getUserPosition(users[-1], dai)[1] == debts[-1], "every borrow went through"
    return users, debts


def test_one_call_handles_500_accounts(market, supplier):
    """500 borrowers, each 1 WETH of collateral and 1,000 to 1,588 DAI of debt. WETH falls to
    $1,800 (weighted collateral $1,440): those owing more than 1,440 DAI are liquidatable."""
    p = market
    count = 500
    users, debts = seed_weth_borrowers(p, supplier, count)

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


# An account whose health factor cannot be read (a price read of a reserve it uses reverts) is
# flagged, and the batch still answers for every other account.

UNREADABLE = MAX - 1
ALICE_HF = 993788819875776397


@pytest.fixture(scope="module")
def dave():
    return accounts[7]


def make_stale(p, symbol: str) -> None:
    """Publish `symbol`'s current price with an update time older than the oracle's max age."""
    feed = p.feeds[symbol]
    feed.setRoundData(feed.latestAnswer(), brownie.chain[-1].timestamp - PRICE_MAX_AGE - 1,
                      {"from": p.deployer})


@pytest.fixture
def wbtc_unreadable(mixed, dave):
    """`mixed`, plus dave liquidatable on WBTC collateral; then WBTC's price goes stale, so bob's and
    dave's health factors cannot be read while alice's and carol's can."""
    p = mixed
    open_position(p, dave, {"WBTC": 10**8}, {"DAI": 40_000 * E18}, {"WBTC": 50_000 * 10**8})
    assert p.health_factor(dave) < WAD
    make_stale(p, "WBTC")
    with brownie.reverts(revert_pattern=r"StalePrice: .*"):
        p.pool.getHealthFactors([accounts[1], dave])  # the pool's own batch fails as a whole
    return p


def test_an_account_on_a_stale_reserve_is_flagged_and_the_others_still_answer(
    wbtc_unreadable, alice, bob, carol, dave
):
    p = wbtc_unreadable
    nobody = accounts[6]
    users = [bob, alice, dave, carol, nobody, alice]
    expected = [UNREADABLE, ALICE_HF, UNREADABLE, MAX, MAX, ALICE_HF]
    assert list(p.lens.getHealthFactors(users)) == expected
    hfs, ok = p.lens.getHealthFactorsChecked(users)
    assert list(ok) == [False, True, False, True, True, True]
    assert list(hfs) == expected
    assert p.lens.UNREADABLE_HEALTH_FACTOR() == UNREADABLE


def test_an_unreadable_account_is_never_listed_as_liquidatable(wbtc_unreadable, alice, bob, carol, dave):
    """dave is below 1 on WBTC, but his health factor cannot be read now: he is in `unreadable`,
    not in `liquidatable`."""
    p = wbtc_unreadable
    users = [bob, dave, alice, carol]
    assert tuple(map(list, p.lens.getLiquidatable(users))) == ([alice], [ALICE_HF])
    liquidatable, hfs, unreadable = p.lens.getLiquidatableChecked(users)
    assert (list(liquidatable), list(hfs), list(unreadable)) == ([alice], [ALICE_HF], [bob, dave])


def test_the_checked_views_agree_with_the_plain_ones_when_every_account_reads(mixed, alice, bob, carol):
    p = mixed
    users = [bob, alice, carol]
    hfs, ok = p.lens.getHealthFactorsChecked(users)
    assert list(ok) == [True, True, True]
    assert list(hfs) == list(p.pool.getHealthFactors(users))
    liquidatable, lhfs, unreadable = p.lens.getLiquidatableChecked(users)
    assert (list(liquidatable), list(lhfs), list(unreadable)) == ([alice], [ALICE_HF], [])
    assert tuple(p.lens.getHealthFactorsChecked([])) == ((), ())
    assert tuple(p.lens.getLiquidatableChecked([])) == ((), (), ())


def test_a_feed_that_reverts_is_flagged_like_a_stale_one(mixed, alice, bob, carol, deployer):
    """WBTC's feed becomes a proxy to a contract that has no `latestRoundData`: every WBTC price read
    reverts without data."""
    p = mixed
    proxy = MockAggregatorProxy.deploy(p.feeds["WBTC"], {"from": deployer})
    p.oracle.setFeed(p.tokens["WBTC"], proxy, PRICE_MAX_AGE, {"from": deployer})
    proxy.confirmAggregator(p.tokens["DAI"], {"from": deployer})
    assert tuple(map(list, p.lens.getLiquidatable([bob, alice]))) == ([alice], [ALICE_HF])
    hfs, ok = p.lens.getHealthFactorsChecked([alice, bob, carol])
    assert (list(hfs), list(ok)) == ([ALICE_HF, UNREADABLE, MAX], [True, False, True])


def test_positions_do_not_depend_on_prices(wbtc_unreadable, bob):
    p = wbtc_unreadable
    configs, supplies, _draws = p.lens.getPositions([bob])
    wbtc_id = p.pool.getReserveData(p.tokens["WBTC"])[1]
    assert supplies[0][wbtc_id] == 10**7 and configs[0] != 0


def test_a_call_starved_of_gas_reverts_instead_of_flagging_accounts(mixed, alice, bob, carol):
    """With too little gas for the pool's batch, the lens reverts `InsufficientGas`: running out of
    gas says nothing about an account."""
    p = mixed
    users = [alice, bob, carol] * 10
    needed = p.lens.getHealthFactorsChecked.estimate_gas(users)
    with brownie.reverts("InsufficientGas: "):
        p.lens.getHealthFactorsChecked.call(users, {"gas": needed // 2})
    _hfs, ok = p.lens.getHealthFactorsChecked.call(users, {"gas": needed})
    assert all(ok)


def test_500_accounts_with_one_unreadable_fit_in_a_block(market, supplier, dave):
    """500 readable WETH borrowers and, in the middle, dave on a stale WBTC: the price probes, the
    batch without dave and dave's own read stay inside the block gas limit (Brownie's Anvil caps an
    `eth_call` at 12M). dave's position and the stale price come first: Brownie's own transactions
    right after the bulk seeding were seen dropped on a loaded machine."""
    p = market
    open_position(p, dave, {"WBTC": 10**8}, {"DAI": 1_000 * E18})
    make_stale(p, "WBTC")
    users, debts = seed_weth_borrowers(p, supplier, 500)
    batch = [*users[:250], dave, *users[250:]]

    weighted = 80_00 * pm.to_value(E18, 18, 2_000 * 10**8)
    expected = [pm.health_factor(weighted, pm.to_value(d * RAY, 18, 10**8)) for d in debts]
    hfs, ok = p.lens.getHealthFactorsChecked(batch)
    assert list(hfs) == [*expected[:250], UNREADABLE, *expected[250:]]
    assert list(ok) == [True] * 250 + [False] + [True] * 250
    gas = p.lens.getLiquidatableChecked.estimate_gas(batch)
    print(f"getLiquidatableChecked(501 accounts, 1 unreadable): {gas} gas")
    assert gas < BLOCK_GAS_LIMIT
