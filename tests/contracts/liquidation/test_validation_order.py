"""Validation order of `liquidate`, protocol.md section 8. Each test builds a call that breaks two
rules at once and shows that the earlier rule's error wins; `previewLiquidation` reverts
identically, except that it has no receiveShares argument and so never reverts
`CannotReceiveShares`. A final ladder fixes one rule at a time and walks the whole order."""

import brownie
import pytest
from brownie import MockERC20, accounts
from liquidation_helpers import MAX, account_state, open_position, set_config

E18 = 10**18


def _revert_message(name, *args):
    return f"{name}: " + ", ".join(str(a).lower() if isinstance(a, str) else str(a)
                                   for a in args)


def assert_liquidation_reverts(p, coll, debt, user, debt_to_cover, caller, message,
                               receive_shares=False, preview_message=None):
    with brownie.reverts(message):
        p.pool.liquidate(coll, debt, user, debt_to_cover, receive_shares, {"from": caller})
    with brownie.reverts(preview_message or message):
        p.pool.previewLiquidation(coll, debt, user, debt_to_cover, {"from": caller})


@pytest.fixture(scope="module")
def unlisted(market):
    return MockERC20.deploy("Unlisted", "NOPE", 18, {"from": market.deployer})


@pytest.fixture(scope="module")
def dave():
    return accounts[6]


@pytest.fixture(scope="module")
def erin():
    return accounts[7]


@pytest.fixture(scope="module")
def positions(market, alice, bob, dave):
    """alice: unhealthy (10 WETH, 16,100 DAI, WBTC supplied but not collateral).
    bob: healthy (10 WETH, 1,000 DAI, WBTC supplied but not collateral).
    dave: the debt-dust example (1 WETH, 1,300 DAI at $1,600): only MustNotLeaveDust stops him.
    carol has nothing."""
    p = market
    wbtc = p.tokens["WBTC"]
    for user in (alice, bob):
        p.supply(user, "WBTC", 10**6)
        p.pool.setUsingAsCollateral(wbtc, False, {"from": user})
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 16_100 * E18})
    open_position(p, bob, {"WETH": 10 * E18}, {"DAI": 1_000 * E18})
    open_position(p, dave, {"WETH": E18}, {"DAI": 1_300 * E18}, {"WETH": 1_600 * 10**8})
    return p


def test_unlisted_reserve_before_self_liquidation(positions, unlisted, alice):
    p = positions
    dai, weth = p.tokens["DAI"], p.tokens["WETH"]
    assert_liquidation_reverts(p, unlisted, dai, alice, 0, alice,
                               _revert_message("ReserveNotListed", unlisted.address))
    assert_liquidation_reverts(p, weth, unlisted, alice, 0, alice,
                               _revert_message("ReserveNotListed", unlisted.address))


def test_unlisted_collateral_is_named_before_an_unlisted_debt(positions, unlisted, alice,
                                                              liquidator):
    p = positions
    other = MockERC20.deploy("Other", "OTH", 6, {"from": p.deployer})
    assert_liquidation_reverts(p, unlisted, other, alice, MAX, liquidator,
                               _revert_message("ReserveNotListed", unlisted.address))


def test_self_liquidation_before_invalid_debt_to_cover(positions, alice):
    p = positions
    assert_liquidation_reverts(p, p.tokens["WETH"], p.tokens["DAI"], alice, 0, alice,
                               "SelfLiquidation: ")


def test_invalid_debt_to_cover_before_paused_reserve(positions, alice, liquidator, guardian):
    p = positions
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.pool.setReservePaused(weth, True, {"from": guardian})
    p.pool.setReservePaused(dai, True, {"from": guardian})
    assert_liquidation_reverts(p, weth, dai, alice, 0, liquidator, "InvalidDebtToCover: ")


def test_paused_collateral_before_not_supplied(positions, carol, liquidator, guardian):
    p = positions
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.pool.setReservePaused(weth, True, {"from": guardian})
    assert_liquidation_reverts(p, weth, dai, carol, MAX, liquidator,
                               _revert_message("ReservePaused", weth.address))


def test_paused_debt_before_not_supplied(positions, carol, liquidator, guardian):
    p = positions
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.pool.setReservePaused(dai, True, {"from": guardian})
    assert_liquidation_reverts(p, weth, dai, carol, MAX, liquidator,
                               _revert_message("ReservePaused", dai.address))


def test_paused_collateral_is_named_before_a_paused_debt(positions, alice, liquidator, guardian):
    p = positions
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.pool.setReservePaused(weth, True, {"from": guardian})
    p.pool.setReservePaused(dai, True, {"from": guardian})
    assert_liquidation_reverts(p, weth, dai, alice, MAX, liquidator,
                               _revert_message("ReservePaused", weth.address))


def test_not_supplied_before_not_borrowed(positions, carol, liquidator):
    p = positions
    assert_liquidation_reverts(p, p.tokens["USDC"], p.tokens["DAI"], carol, MAX, liquidator,
                               "ReserveNotSupplied: ")


def test_not_supplied_before_health_factor(positions, bob, liquidator):
    """bob is healthy and has no USDC supply."""
    p = positions
    assert_liquidation_reverts(p, p.tokens["USDC"], p.tokens["DAI"], bob, MAX, liquidator,
                               "ReserveNotSupplied: ")


def test_not_borrowed_before_health_factor(positions, bob, liquidator):
    """bob is healthy and has no USDC debt."""
    p = positions
    assert_liquidation_reverts(p, p.tokens["WETH"], p.tokens["USDC"], bob, MAX, liquidator,
                               "ReserveNotBorrowed: ")


def test_health_factor_before_collateral_not_enabled(positions, bob, liquidator):
    """bob's WBTC is not collateral, but he is healthy: the health factor is reported."""
    p = positions
    hf = account_state(p, bob).health_factor
    assert hf == p.health_factor(bob) >= E18
    assert_liquidation_reverts(p, p.tokens["WBTC"], p.tokens["DAI"], bob, MAX, liquidator,
                               _revert_message("HealthFactorNotBelowThreshold", hf))


def test_collateral_not_enabled_before_cannot_receive_shares(positions, alice, liquidator):
    p = positions
    set_config(p, "WBTC", collateral_factor=75_00, max_bonus=108_00, frozen=True,
               receive_shares=False)
    assert_liquidation_reverts(p, p.tokens["WBTC"], p.tokens["DAI"], alice, MAX, liquidator,
                               "ReserveNotEnabledAsCollateral: ", receive_shares=True)


def test_zero_collateral_factor_reserve_is_not_collateral(positions, alice, liquidator):
    """A reserve whose collateral factor governance set to 0 is not collateral, even with the
    user's collateral bit set."""
    p = positions
    weth, dai, usdc = p.tokens["WETH"], p.tokens["DAI"], p.tokens["USDC"]
    p.supply(alice, "USDC", 10 * 10**6)
    assert p.pool.getUserPosition(alice, usdc)[2] is True
    # v2: governance cannot take a supplied reserve's collateral factor to 0 (offboarding lowers maxLtv).
    with brownie.reverts(revert_pattern=r"CollateralFactorInUse: .*"):
        set_config(p, "USDC", collateral_factor=0, max_bonus=104_00)
    # DAI never had a collateral factor.
    p.supply(alice, "DAI", 10 * E18)
    assert_liquidation_reverts(p, dai, dai, alice, MAX, liquidator,
                               "ReserveNotEnabledAsCollateral: ")
    assert p.pool.previewLiquidation(weth, dai, alice, MAX, {"from": liquidator})[2] > 0


def test_cannot_receive_shares_before_must_not_leave_dust(positions, dave, liquidator):
    p = positions
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    set_config(p, "WETH", receive_shares=False)
    assert_liquidation_reverts(p, weth, dai, dave, 1_299 * E18, liquidator, "CannotReceiveShares: ",
                               receive_shares=True, preview_message="MustNotLeaveDust: ")
    assert_liquidation_reverts(p, weth, dai, dave, 1_299 * E18, liquidator, "MustNotLeaveDust: ")


def test_the_whole_order_one_rule_at_a_time(market, erin, liquidator, guardian, unlisted):
    """A call that breaks every rule; fixing them one by one yields the errors in spec order."""
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    seen = []

    def attempt(coll, caller, debt_to_cover, receive_shares):
        try:
            p.pool.liquidate(coll, dai, erin, debt_to_cover, receive_shares, {"from": caller})
        except brownie.exceptions.VirtualMachineError as exc:
            name = exc.revert_msg.split(":")[0]
            seen.append(name)
            try:
                p.pool.previewLiquidation(coll, dai, erin, debt_to_cover, {"from": caller})
            except brownie.exceptions.VirtualMachineError as preview_exc:
                if name != "CannotReceiveShares":
                    assert preview_exc.revert_msg == exc.revert_msg
                return
            assert name == "CannotReceiveShares", "preview reverts as liquidate does"
            return
        seen.append("success")

    set_config(p, "WETH", receive_shares=False)
    p.pool.setReservePaused(weth, True, {"from": guardian})
    attempt(unlisted, erin, 0, True)              # unlisted collateral
    attempt(weth, erin, 0, True)                  # the user himself
    attempt(weth, liquidator, 0, True)            # debtToCover 0
    attempt(weth, liquidator, 1, True)            # WETH paused
    p.pool.setReservePaused(weth, False, {"from": p.deployer})
    attempt(weth, liquidator, 1, True)            # erin has no WETH
    p.supply(erin, "WETH", E18)
    p.pool.setUsingAsCollateral(weth, False, {"from": erin})
    attempt(weth, liquidator, 1, True)            # erin has no DAI debt
    p.supply(erin, "USDC", 2_000 * 10**6)
    p.borrow(erin, "DAI", 1_300 * E18)
    attempt(weth, liquidator, 1, True)            # erin is healthy (USDC backs the debt)
    p.set_price("USDC", 70_000_000)
    p.set_price("WETH", 100 * 10**8)
    attempt(weth, liquidator, 1, True)            # WETH is not erin's collateral
    p.pool.setUsingAsCollateral(weth, True, {"from": erin})
    assert p.health_factor(erin) < E18
    attempt(weth, liquidator, 1, True)            # WETH does not allow receiving shares
    attempt(weth, liquidator, 1, False)           # 1 wei would leave $100 of WETH: dust
    attempt(weth, liquidator, MAX, False)
    assert seen == [
        "ReserveNotListed", "SelfLiquidation", "InvalidDebtToCover", "ReservePaused",
        "ReserveNotSupplied", "ReserveNotBorrowed", "HealthFactorNotBelowThreshold",
        "ReserveNotEnabledAsCollateral", "CannotReceiveShares", "MustNotLeaveDust", "success",
    ]
