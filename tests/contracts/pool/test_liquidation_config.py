"""The pool-wide liquidation configuration (protocol.md section 2, `LiquidationConfig`):
targetHealthFactor >= 1e18, healthFactorForMaxBonus < 1e18, liquidationBonusFactor <= 1e4."""

import brownie
import pytest

WAD = 10**18


def test_the_pool_starts_with_target_1_05_max_bonus_at_0_7_and_bonus_factor_20_percent(pool):
    assert tuple(pool.getLiquidationConfig()) == (105 * 10**16, 70 * 10**16, 20_00)


def test_setting_the_liquidation_config_stores_it_and_emits_liquidation_config_updated(
    pool, deployer
):
    tx = pool.setLiquidationConfig(11 * 10**17, 5 * 10**17, 50_00, {"from": deployer})
    assert dict(tx.events["LiquidationConfigUpdated"]) == {
        "targetHealthFactor": 11 * 10**17,
        "healthFactorForMaxBonus": 5 * 10**17,
        "liquidationBonusFactor": 50_00,
    }
    assert tuple(pool.getLiquidationConfig()) == (11 * 10**17, 5 * 10**17, 50_00)


@pytest.mark.parametrize(
    "config",
    [
        (WAD, 7 * 10**17, 20_00),  # target exactly 1.0
        (2**64 - 1, 7 * 10**17, 20_00),  # target at the top of its uint64 field
        (105 * 10**16, WAD - 1, 20_00),  # max bonus just below HF 1
        (105 * 10**16, 0, 20_00),
        (105 * 10**16, 7 * 10**17, 100_00),  # bonus factor 100%
        (105 * 10**16, 7 * 10**17, 0),
    ],
)
def test_liquidation_configs_at_the_edge_of_every_bound_are_accepted(pool, deployer, config):
    pool.setLiquidationConfig(*config, {"from": deployer})
    assert tuple(pool.getLiquidationConfig()) == config


@pytest.mark.parametrize(
    "config,message",
    [
        ((WAD - 1, 7 * 10**17, 20_00), f"InvalidTargetHealthFactor: {WAD - 1}"),
        ((2**64, 7 * 10**17, 20_00), f"InvalidTargetHealthFactor: {2**64}"),
        ((105 * 10**16, WAD, 20_00), f"InvalidHealthFactorForMaxBonus: {WAD}"),
        ((105 * 10**16, 7 * 10**17, 100_01), "InvalidLiquidationBonusFactor: 10001"),
    ],
)
def test_liquidation_configs_outside_their_bounds_revert(pool, deployer, config, message):
    with brownie.reverts(message):
        pool.setLiquidationConfig(*config, {"from": deployer})


def test_only_the_owner_may_set_the_liquidation_config(pool, alice):
    with brownie.reverts(f"OwnableUnauthorizedAccount: {alice.address.lower()}"):
        pool.setLiquidationConfig(105 * 10**16, 7 * 10**17, 20_00, {"from": alice})
