"""A DEPLOY_PLAN file becomes a plan, or one sentence that says what is wrong with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.deployer import DeployError, plan_from_file

WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
WETH_FEED = "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419"


def asset(symbol: str, **extra) -> dict:
    return {"symbol": symbol, "decimals": 18, "price": 0, "collateral_factor": 8000,
            "max_liquidation_bonus": 10500, **extra}  # fmt: skip


def write(tmp_path: Path, plan: object) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(plan if isinstance(plan, str) else json.dumps(plan))
    return path


def test_a_plan_names_existing_tokens_and_feeds_and_keeps_the_defaults_it_does_not_set(tmp_path):
    path = write(tmp_path, {"assets": [asset("WETH", token=WETH, feed=WETH_FEED), asset("DAI")],
                            "target_health_factor": 11 * 10**17})  # fmt: skip

    plan = plan_from_file(path)

    assert [(a.symbol, a.token, a.feed) for a in plan.assets] == [
        ("WETH", WETH, WETH_FEED),
        ("DAI", None, None),
    ]
    assert plan.target_health_factor == 11 * 10**17
    assert plan.liquidation_bonus_factor == 20_00
    assert plan.native_price_asset == "WETH"


@pytest.mark.parametrize(
    ("plan", "sentence"),
    [
        ("{not json", "is not readable JSON"),
        ([asset("WETH")], 'must be an object with a non-empty list under "assets"'),
        ({"assets": []}, 'must be an object with a non-empty list under "assets"'),
        ({"assets": [asset("WETH", colour="red")]}, "unexpected keyword argument 'colour'"),
        ({"assets": [asset("WETH")], "close_factor": 5000}, "unexpected keyword argument 'close_factor'"),
        ({"assets": [asset("WETH"), asset("WETH")]}, "a symbol appears twice in ['WETH', 'WETH']"),
        ({"assets": [asset("DAI")]}, "native_price_asset 'WETH' is not one of ['DAI']"),
        ({"assets": [asset("WETH", token="0x1234")]}, "WETH token '0x1234' is not an address"),
        ({"assets": [asset("WETH", feed="chainlink")]}, "WETH feed 'chainlink' is not an address"),
    ],
)
def test_a_malformed_plan_is_one_sentence_naming_the_file(tmp_path, plan, sentence):
    path = write(tmp_path, plan)

    with pytest.raises(DeployError) as refused:
        plan_from_file(path)

    assert str(refused.value).startswith(f"DEPLOY_PLAN {path}")
    assert sentence in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_missing_plan_file_is_named(tmp_path):
    with pytest.raises(DeployError, match="not found"):
        plan_from_file(tmp_path / "absent.json")
