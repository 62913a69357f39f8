"""Listing reserves and changing their configuration (protocol.md section 2, "Config").

Every bound is tested at its edge: the last accepted value and the first rejected one. `addReserve`
and `updateReserveConfig` share one validation, so the rejection table runs against both.
"""

import brownie
import pytest
from brownie import ZERO_ADDRESS, MockERC20, MockPriceFeed, web3

RAY = 10**27

VALID = dict(
    collateralFactor=80_00,
    maxLiquidationBonus=105_00,
    liquidationFee=10_00,
    receiveSharesEnabled=True,
    paused=False,
    frozen=False,
    baseRate=0,
    slopeBelowOptimal=0,
    slopeAboveOptimal=0,
    optimalUtilization=80_00,
)


def config(**changes) -> tuple:
    """A ReserveConfig tuple: VALID with the named fields changed; the borrow factor `maxLtv` (the last
    field) defaults to the collateral factor."""
    fields = {**VALID, **changes}
    fields.setdefault("maxLtv", fields["collateralFactor"])
    assert list(fields) == [*VALID, "maxLtv"]
    return tuple(fields.values())


#: (changes, revert message). ceil(maxLB * CF / 1e4) < 1e4 means maxLB * CF <= 99_990_000.
INVALID_CONFIGS = [
    (dict(collateralFactor=100_00, maxLiquidationBonus=100_00), "InvalidCollateralFactor: 10000"),
    (dict(maxLiquidationBonus=99_99), "InvalidLiquidationBonus: 9999"),
    (dict(liquidationFee=100_01), "InvalidLiquidationFee: 10001"),
    # 62966 * 1588 = 99_990_008: the smallest representable product above the bound (ceil = 10000).
    (
        dict(maxLiquidationBonus=62966, collateralFactor=1588),
        "BonusTimesCollateralFactorTooHigh: 62966, 1588",
    ),
    (
        dict(maxLiquidationBonus=101_01, collateralFactor=99_00),
        "BonusTimesCollateralFactorTooHigh: 10101, 9900",
    ),
    (
        dict(maxLiquidationBonus=101_00, collateralFactor=99_01),
        "BonusTimesCollateralFactorTooHigh: 10100, 9901",
    ),
    (
        dict(maxLiquidationBonus=100_01, collateralFactor=99_99),
        "BonusTimesCollateralFactorTooHigh: 10001, 9999",
    ),
    (dict(maxLtv=80_01), "InvalidMaxLtv: 8001, 8000"),
    (dict(collateralFactor=0, maxLtv=1), "InvalidMaxLtv: 1, 0"),
    (dict(optimalUtilization=0), "InvalidOptimalUtilization: 0"),
    (dict(optimalUtilization=100_00), "InvalidOptimalUtilization: 10000"),
]
INVALID_IDS = [
    message.split(":")[0] + "-" + str(i) for i, (_, message) in enumerate(INVALID_CONFIGS)
]

#: Configurations exactly at the accepted edge of every bound.
EDGE_CONFIGS = [
    dict(collateralFactor=99_99, maxLiquidationBonus=100_00),  # product 99_990_000, ceil 9999
    dict(maxLiquidationBonus=101_00, collateralFactor=99_00),  # product 99_990_000
    dict(maxLiquidationBonus=63125, collateralFactor=1584),  # product 99_990_000
    dict(maxLiquidationBonus=100_00),
    dict(collateralFactor=0, maxLiquidationBonus=65535),  # CF 0: no bonus cap
    dict(maxLtv=0),  # a collateral nobody may borrow against (offboarding)
    dict(liquidationFee=100_00),
    dict(liquidationFee=0),
    dict(optimalUtilization=1),
    dict(optimalUtilization=99_99),
    dict(baseRate=2**32 - 1, slopeBelowOptimal=2**32 - 1, slopeAboveOptimal=2**32 - 1),
]


@pytest.fixture
def new_token(deployer):
    return MockERC20.deploy("New", "NEW", 12, {"from": deployer})


def test_add_reserve_lists_the_asset_with_a_one_ray_index_and_emits_reserve_added(
    pool, deployer, new_token
):
    cfg = config(
        collateralFactor=70_00, baseRate=100, slopeBelowOptimal=400, slopeAboveOptimal=6000
    )
    tx = pool.addReserve(new_token, cfg, {"from": deployer})

    event = tx.events["ReserveAdded"]
    assert event["asset"] == new_token.address
    assert event["id"] == 4
    assert event["decimals"] == 12
    assert tuple(event["config"]) == cfg
    assert pool.getReservesList()[-1] == new_token.address
    data = pool.getReserveData(new_token).dict()
    assert tuple(data["config"].values()) == cfg
    assert (data["id"], data["decimals"], data["borrowIndex"], data["lastUpdate"]) == (
        4,
        12,
        RAY,
        tx.timestamp,
    )
    assert (data["cash"], data["totalSupplyShares"], data["totalDrawnShares"], data["deficit"]) == (
        0,
        0,
        0,
        0,
    )
    # No feed is set: the view reports price 0 instead of reverting.
    assert data["price"] == 0


@pytest.mark.parametrize("changes", EDGE_CONFIGS)
def test_configurations_at_the_edge_of_every_bound_are_accepted(
    pool, deployer, new_token, tokens, changes
):
    pool.addReserve(new_token, config(**changes), {"from": deployer})
    pool.updateReserveConfig(tokens["WETH"], config(**changes), {"from": deployer})
    assert tuple(pool.getReserveData(new_token).dict()["config"].values()) == config(**changes)
    assert tuple(pool.getReserveData(tokens["WETH"]).dict()["config"].values()) == config(**changes)


@pytest.mark.parametrize("changes,message", INVALID_CONFIGS, ids=INVALID_IDS)
def test_add_reserve_rejects_a_config_outside_its_bounds(
    pool, deployer, new_token, changes, message
):
    with brownie.reverts(message):
        pool.addReserve(new_token, config(**changes), {"from": deployer})


@pytest.mark.parametrize("changes,message", INVALID_CONFIGS, ids=INVALID_IDS)
def test_update_reserve_config_rejects_a_config_outside_its_bounds(
    pool, deployer, tokens, changes, message
):
    with brownie.reverts(message):
        pool.updateReserveConfig(tokens["WETH"], config(**changes), {"from": deployer})


def test_add_reserve_rejects_a_token_with_more_than_18_decimals(pool, deployer):
    token = MockERC20.deploy("Big", "BIG", 19, {"from": deployer})
    with brownie.reverts("TooManyDecimals: 19"):
        pool.addReserve(token, config(), {"from": deployer})


@pytest.mark.parametrize("decimals", [0, 18])
def test_add_reserve_accepts_tokens_from_0_to_18_decimals(pool, deployer, decimals):
    token = MockERC20.deploy("Edge", "EDGE", decimals, {"from": deployer})
    tx = pool.addReserve(token, config(), {"from": deployer})
    assert tx.events["ReserveAdded"]["decimals"] == decimals
    assert pool.getReserveData(token).dict()["decimals"] == decimals


def test_add_reserve_rejects_an_already_listed_asset(pool, deployer, tokens):
    weth = tokens["WETH"]
    with brownie.reverts(f"ReserveAlreadyListed: {weth.address.lower()}"):
        pool.addReserve(weth, config(), {"from": deployer})


def test_add_reserve_rejects_the_zero_address(pool, deployer):
    with brownie.reverts("ZeroAddress: "):
        pool.addReserve(ZERO_ADDRESS, config(), {"from": deployer})


def test_only_the_owner_may_add_a_reserve(pool, alice, new_token):
    with brownie.reverts(f"OwnableUnauthorizedAccount: {alice.address.lower()}"):
        pool.addReserve(new_token, config(), {"from": alice})


def test_the_pool_holds_at_most_128_reserves_and_the_last_one_works(protocol, deployer, alice):
    pool = protocol.pool
    # Four reserves are listed by the deployment; list 124 more with raw transactions (fast).
    deploy_data = MockERC20.deploy.encode_input("T", "T", 18)
    sent = [
        web3.eth.send_transaction({"from": deployer.address, "data": deploy_data})
        for _ in range(125)
    ]
    tokens = [web3.eth.get_transaction_receipt(h)["contractAddress"] for h in sent]
    for token in tokens[:124]:
        data = pool.addReserve.encode_input(token, config())
        web3.eth.send_transaction({"from": deployer.address, "to": pool.address, "data": data})
    assert len(pool.getReservesList()) == 128
    with brownie.reverts("TooManyReserves: "):
        pool.addReserve(tokens[124], config(), {"from": deployer})

    # Reserve 127 uses the top two bits of the user bitmap (255: collateral, 254: borrowing).
    last = MockERC20.at(tokens[123])
    assert pool.getReserveData(last).dict()["id"] == 127
    feed = MockPriceFeed.deploy(8, 10**8, {"from": deployer})
    protocol.oracle.setFeed(last, feed, 3600, {"from": deployer})
    protocol.supply(deployer, "USDC", 1000 * 10**6)
    last.mint(alice, 1000 * 10**18, {"from": alice})
    last.approve(pool, 2**256 - 1, {"from": alice})
    pool.supply(last, 1000 * 10**18, alice, {"from": alice})
    pool.borrow(last, 100 * 10**18, {"from": alice})
    assert pool.getUserConfig(alice) == (1 << 255) | (1 << 254)
    account = pool.getUserAccountData(alice).dict()
    assert (account["activeCollateralCount"], account["borrowCount"]) == (1, 1)
    assert account["healthFactor"] == 8 * 10**18  # $800 of borrowing power over $100 of debt


def test_update_reserve_config_replaces_the_config_and_emits_reserve_config_updated(
    pool, deployer, tokens
):
    weth = tokens["WETH"]
    cfg = config(
        collateralFactor=82_50,
        maxLiquidationBonus=106_00,
        liquidationFee=15_00,
        receiveSharesEnabled=False,
        baseRate=50,
        slopeBelowOptimal=300,
        slopeAboveOptimal=9000,
        optimalUtilization=90_00,
    )
    tx = pool.updateReserveConfig(weth, cfg, {"from": deployer})

    assert tx.events["ReserveConfigUpdated"]["asset"] == weth.address
    assert tuple(tx.events["ReserveConfigUpdated"]["config"]) == cfg
    data = pool.getReserveData(weth).dict()
    assert tuple(data["config"].values()) == cfg
    # Identity fields do not change.
    assert (data["id"], data["decimals"]) == (0, 18)


def test_update_reserve_config_rejects_an_unlisted_asset(pool, deployer, new_token):
    with brownie.reverts(f"ReserveNotListed: {new_token.address.lower()}"):
        pool.updateReserveConfig(new_token, config(), {"from": deployer})


def test_only_the_owner_may_update_a_reserve_config(pool, alice, tokens):
    with brownie.reverts(f"OwnableUnauthorizedAccount: {alice.address.lower()}"):
        pool.updateReserveConfig(tokens["WETH"], config(), {"from": alice})
