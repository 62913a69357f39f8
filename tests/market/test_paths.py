"""Reference price paths: reproducible for a seed, of the requested shape and depth, stablecoins at $1."""

from __future__ import annotations

from itertools import pairwise

import pytest

from scripts.market.paths import (
    STABLE_PRICE_USD8,
    Shape,
    crash_bounce,
    gap,
    grind,
    make_path,
)

START = {"WETH": 2_000 * 10**8, "WBTC": 60_000 * 10**8}
DEPTH = {"WETH": 4_500, "WBTC": 3_500}
NOISE_BPS = 30


def ratios(series: tuple[int, ...]) -> list[float]:
    return [b / a for a, b in pairwise(series)]


@pytest.mark.parametrize("shape", list(Shape))
def test_a_path_is_the_same_for_the_same_seed_and_differs_for_another(shape):
    first = make_path(shape, START, DEPTH, 40, seed=7)
    assert make_path(shape, START, DEPTH, 40, seed=7) == first
    assert make_path(shape.value, START, DEPTH, 40, seed=8).series != first.series
    assert first.shape is shape and first.steps == 40 and first.assets == ("WBTC", "WETH")
    for asset in START:
        assert len(first.series_usd8(asset)) == 41
        assert first.price_usd8(asset, 0) == START[asset]


def test_grind_declines_along_a_line_to_the_requested_depth_within_the_noise():
    steps = 50
    path = grind(START, DEPTH, steps, seed=3, noise_bps=NOISE_BPS)
    for asset, start in START.items():
        series = path.series_usd8(asset)
        depth = DEPTH[asset] / 10_000
        assert series[-1] == round(start * (1 - depth))
        for t, price in enumerate(series):
            trend = start * (1 - depth * t / steps)
            assert abs(price / trend - 1) <= NOISE_BPS / 10_000 + 1e-9, (asset, t)
        # Steady: no step rises by more than twice the noise, and the second half is below the first.
        assert max(ratios(series)) <= 1 + 2 * NOISE_BPS / 10_000
        assert max(series[steps // 2 :]) < min(series[: steps // 2])


def test_gap_has_exactly_one_step_of_the_requested_size_and_is_flat_ish_elsewhere():
    path = gap(START, DEPTH, 30, seed=11, gap_step=9, noise_bps=NOISE_BPS)
    for asset in START:
        steps = ratios(path.series_usd8(asset))
        drop = 1 - DEPTH[asset] / 10_000
        gaps = [t for t, r in enumerate(steps, start=1) if abs(r - drop) < 1e-6]
        assert gaps == [9], (asset, steps)
        others = [r for t, r in enumerate(steps, start=1) if t != 9]
        assert all(abs(r - 1) <= NOISE_BPS / 10_000 + 1e-6 for r in others), asset


def test_gap_defaults_to_a_quarter_of_the_way_in():
    path = gap(START, DEPTH, 20, seed=1, noise_bps=0)
    assert path.series_usd8("WETH")[4] == START["WETH"]
    assert path.series_usd8("WETH")[5] == START["WETH"] * 55 // 100


def test_crash_bounce_falls_fast_to_the_trough_then_recovers_the_requested_share():
    steps, crash_steps = 40, 8
    path = crash_bounce(START, DEPTH, steps, seed=5, crash_steps=crash_steps, bounce_bps=4_000)
    for asset, start in START.items():
        series = path.series_usd8(asset)
        depth = DEPTH[asset] / 10_000
        trough = round(start * (1 - depth))
        assert series[crash_steps] == trough == min(series)
        assert series[-1] == round(start * (1 - depth + depth * 0.4))
        fall_per_step = (start - trough) / crash_steps
        rise_per_step = (series[-1] - trough) / (steps - crash_steps)
        assert fall_per_step > 5 * rise_per_step
        assert series[: crash_steps + 1] == tuple(sorted(series[: crash_steps + 1], reverse=True))


def test_stablecoins_stay_at_one_dollar_on_every_step():
    path = grind(START, DEPTH, 10, seed=2)
    for step in range(11):
        prices = path.at(step)
        assert prices["USDC"] == prices["DAI"] == STABLE_PRICE_USD8
        assert prices["WETH"] == path.price_usd8("WETH", step)
    assert path.price_usd8("USDC", 10) == STABLE_PRICE_USD8
    assert path.start == START
    with pytest.raises(IndexError):
        path.at(11)
    with pytest.raises(KeyError):
        path.series_usd8("DOGE")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: grind(START, {"WETH": 4_500}, 10, 1), "different assets"),
        (lambda: grind(START, {**DEPTH, "WETH": 0}, 10, 1), "depth_bps"),
        (lambda: grind(START, {**DEPTH, "WETH": 10_000}, 10, 1), "depth_bps"),
        (lambda: grind(START, DEPTH, 0, 1), "at least one step"),
        (lambda: grind({**START, "WETH": 0}, DEPTH, 10, 1), "must be positive"),
        (lambda: gap(START, DEPTH, 10, 1, gap_step=11), "gap_step"),
        (lambda: crash_bounce(START, DEPTH, 10, 1, crash_steps=10), "crash_steps"),
        (lambda: crash_bounce(START, DEPTH, 10, 1, bounce_bps=10_001), "bounce_bps"),
        (lambda: grind({"USDC": 10**8}, {"USDC": 100}, 10, 1), "stablecoin"),
        (lambda: make_path("moon", START, DEPTH, 10, 1), "unknown path shape"),
    ],
)
def test_bad_parameters_are_refused_with_a_sentence(build, message):
    with pytest.raises(ValueError, match=message):
        build()
