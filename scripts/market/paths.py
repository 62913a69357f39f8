"""The exogenous reference price path of a market-driven crash: where the outside world prices each
risky asset at every step, whatever the devnet's pools and oracle do. The arbitrageur pulls the pools
toward it; the publisher compares the pools' moves with it to tell a cascade from the market.

Pure and reproducible: a path is a function of its parameters and a seed (`random.Random(seed)`, one
draw per step and asset in a fixed order), with no chain and no global random state. Prices are
USD per whole token with 8 decimals, like the oracle (`2000e8` = $2,000); stablecoins stay at $1.

Shapes (`Shape`), each falling by `depth_bps[asset]` from `start[asset]`:
- `grind`: a straight decline to the trough over all steps, each step off the line by at most
  `noise_bps`; the last step is the trough exactly.
- `gap`: a multiplicative random walk of at most `noise_bps` a step, except one step (`gap_step`)
  that multiplies the price by exactly `1 - depth`: the overnight gap, then flat-ish.
- `crash_bounce`: a fast straight fall to the trough over the first `crash_steps` (landing on it
  exactly), then a slower straight recovery of `bounce_bps` of the fall by the last step, each step off
  the lines by at most `noise_bps`.

Index 0 of every series is the start price; steps 1..`steps` follow, so a path of `steps` steps holds
`steps + 1` prices per asset."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

BPS = 10_000
#: The price of a stablecoin on every step (USD, 8 decimals).
STABLE_PRICE_USD8 = 10**8
#: The devnet's USD stablecoins, priced at $1 on every step.
DEVNET_STABLES = ("USDC", "DAI")
#: Per-step noise of the shapes unless told otherwise (BPS of the price): 0.2%.
DEFAULT_NOISE_BPS = 20


class Shape(str, Enum):
    """The shape of a reference path."""

    GRIND = "grind"
    GAP = "gap"
    CRASH_BOUNCE = "crash_bounce"


@dataclass(frozen=True)
class PricePath:
    """A reference price path: for each risky asset (in `assets` order), `series[i][step]` is its USD
    price (8 decimals) at `step`, step 0 being `start`. Built by `grind`, `gap`, `crash_bounce` or
    `make_path`; the parameters it was built with are kept so a run can be described and replayed.

    @param shape the shape that built it
    @param seed the seed of its noise
    @param steps the number of steps after the start (each series holds `steps + 1` prices)
    @param assets the risky assets' symbols, sorted
    @param depth_bps the planned fall of each asset (same order as `assets`), BPS of its start price
    @param series per asset, the price at every step (USD, 8 decimals)
    @param stables symbols priced at `STABLE_PRICE_USD8` on every step"""

    shape: Shape
    seed: int
    steps: int
    assets: tuple[str, ...]
    depth_bps: tuple[int, ...]
    series: tuple[tuple[int, ...], ...]
    stables: tuple[str, ...] = DEVNET_STABLES

    def price_usd8(self, asset: str, step: int) -> int:
        """The reference price of `asset` at `step` (0..steps), USD with 8 decimals; $1 for a stable."""
        if asset in self.stables:
            self._check_step(step)
            return STABLE_PRICE_USD8
        return self.series_usd8(asset)[self._check_step(step)]

    def series_usd8(self, asset: str) -> tuple[int, ...]:
        """Every price of a risky `asset`, step 0 (the start) to `steps`."""
        try:
            return self.series[self.assets.index(asset)]
        except ValueError:
            raise KeyError(f"{asset} is not an asset of this path ({', '.join(self.assets)})") from None

    def at(self, step: int) -> dict[str, int]:
        """Symbol -> reference price at `step` (USD, 8 decimals), risky assets and stables; a new dict."""
        self._check_step(step)
        prices = {asset: series[step] for asset, series in zip(self.assets, self.series, strict=True)}
        prices.update({symbol: STABLE_PRICE_USD8 for symbol in self.stables})
        return prices

    @property
    def start(self) -> dict[str, int]:
        """Risky asset -> its price at step 0."""
        return {asset: series[0] for asset, series in zip(self.assets, self.series, strict=True)}

    def _check_step(self, step: int) -> int:
        if not 0 <= step <= self.steps:
            raise IndexError(f"step {step} is outside the path (0..{self.steps})")
        return step


# shapes: each returns the level (price / start price) at steps 0..steps for one asset


def _grind_levels(rng: random.Random, depth: float, steps: int, noise: float) -> list[float]:
    levels = [1.0]
    for t in range(1, steps + 1):
        trend = 1 - depth * t / steps
        levels.append(trend if t == steps else trend * (1 + rng.uniform(-noise, noise)))
    return levels


def _gap_levels(rng: random.Random, depth: float, steps: int, noise: float, gap_step: int) -> list[float]:
    levels = [1.0]
    for t in range(1, steps + 1):
        factor = 1 - depth if t == gap_step else 1 + rng.uniform(-noise, noise)
        levels.append(levels[-1] * factor)
    return levels


def _crash_bounce_levels(
    rng: random.Random, depth: float, steps: int, noise: float, crash_steps: int, bounce: float
) -> list[float]:
    trough = 1 - depth
    recovered = trough + depth * bounce
    levels = [1.0]
    for t in range(1, steps + 1):
        if t <= crash_steps:
            trend = 1 - depth * t / crash_steps
        else:
            trend = trough + (recovered - trough) * (t - crash_steps) / (steps - crash_steps)
        exact = t in (crash_steps, steps)
        levels.append(trend if exact else trend * (1 + rng.uniform(-noise, noise)))
    return levels


def _build(
    shape: Shape,
    start: Mapping[str, int],
    depth_bps: Mapping[str, int],
    steps: int,
    seed: int,
    noise_bps: int,
    stables: tuple[str, ...],
    levels_of: Callable[[random.Random, float], list[float]],
) -> PricePath:
    """Checks the common parameters and draws every asset's levels from one seeded generator, assets
    in sorted order, so a path depends on its parameters and seed only."""
    if set(start) != set(depth_bps):
        raise ValueError(f"start prices {sorted(start)} and depths {sorted(depth_bps)} name different assets")
    if not start:
        raise ValueError("a path needs at least one risky asset")
    if steps < 1:
        raise ValueError(f"a path needs at least one step (got {steps})")
    if not 0 <= noise_bps < BPS:
        raise ValueError(f"noise_bps {noise_bps} must be in [0, {BPS})")
    for asset in start:
        if asset in stables:
            raise ValueError(f"{asset} is a stablecoin: it stays at $1 and has no path")
        if start[asset] <= 0:
            raise ValueError(f"{asset} start price {start[asset]} must be positive")
        if not 0 < depth_bps[asset] < BPS:
            raise ValueError(f"{asset} depth_bps {depth_bps[asset]} must be in (0, {BPS})")
    rng = random.Random(seed)
    assets = tuple(sorted(start))
    series = []
    for asset in assets:
        levels = levels_of(rng, depth_bps[asset] / BPS)
        series.append(tuple(max(1, round(start[asset] * level)) for level in levels))
    return PricePath(
        shape=shape,
        seed=seed,
        steps=steps,
        assets=assets,
        depth_bps=tuple(depth_bps[a] for a in assets),
        series=tuple(series),
        stables=stables,
    )


def grind(
    start: Mapping[str, int],
    depth_bps: Mapping[str, int],
    steps: int,
    seed: int,
    *,
    noise_bps: int = DEFAULT_NOISE_BPS,
    stables: tuple[str, ...] = DEVNET_STABLES,
) -> PricePath:
    """A steady decline: at step t the price is `start * (1 - depth * t / steps)` times a noise factor
    in [1 - noise, 1 + noise]; the last step is `start * (1 - depth)` exactly (rounded to the unit).

    @param start risky asset -> start price (USD, 8 decimals), e.g. the oracle's answers
    @param depth_bps risky asset -> fall from start to trough, BPS (4500 = -45%)
    @param steps number of steps after the start
    @param seed seed of the noise
    @param noise_bps largest per-step deviation from the trend, BPS of the trend"""
    noise = noise_bps / BPS
    return _build(
        Shape.GRIND,
        start,
        depth_bps,
        steps,
        seed,
        noise_bps,
        stables,
        lambda rng, depth: _grind_levels(rng, depth, steps, noise),
    )


def gap(
    start: Mapping[str, int],
    depth_bps: Mapping[str, int],
    steps: int,
    seed: int,
    *,
    gap_step: int | None = None,
    noise_bps: int = DEFAULT_NOISE_BPS,
    stables: tuple[str, ...] = DEVNET_STABLES,
) -> PricePath:
    """A one-step drop: every step multiplies the price by a noise factor in [1 - noise, 1 + noise],
    except `gap_step`, which multiplies it by exactly `1 - depth` (to the 8-decimal unit).

    @param start risky asset -> start price (USD, 8 decimals)
    @param depth_bps risky asset -> size of the gap, BPS (4500 = -45% in one step)
    @param steps number of steps after the start
    @param seed seed of the noise
    @param gap_step the step of the drop, 1..steps; default a quarter of the way in (at least 1)
    @param noise_bps largest per-step move outside the gap, BPS"""
    step_of_gap = max(1, steps // 4) if gap_step is None else gap_step
    if not 1 <= step_of_gap <= steps:
        raise ValueError(f"gap_step {step_of_gap} must be in 1..{steps}")
    noise = noise_bps / BPS
    return _build(
        Shape.GAP,
        start,
        depth_bps,
        steps,
        seed,
        noise_bps,
        stables,
        lambda rng, depth: _gap_levels(rng, depth, steps, noise, step_of_gap),
    )


def crash_bounce(
    start: Mapping[str, int],
    depth_bps: Mapping[str, int],
    steps: int,
    seed: int,
    *,
    crash_steps: int | None = None,
    bounce_bps: int = 5_000,
    noise_bps: int = DEFAULT_NOISE_BPS,
    stables: tuple[str, ...] = DEVNET_STABLES,
) -> PricePath:
    """A fast fall then a partial recovery: straight down to `start * (1 - depth)` at `crash_steps`
    (exactly), then straight up to `start * (1 - depth + depth * bounce)` at the last step (exactly),
    every other step off those lines by a noise factor in [1 - noise, 1 + noise].

    @param start risky asset -> start price (USD, 8 decimals)
    @param depth_bps risky asset -> fall from start to trough, BPS
    @param steps number of steps after the start (at least 2)
    @param seed seed of the noise
    @param crash_steps steps of the fall, 1..steps-1; default a quarter of the steps (at least 1), so
        the fall is faster than the recovery
    @param bounce_bps share of the fall recovered by the last step, BPS (5000 = half)
    @param noise_bps largest per-step deviation from the lines, BPS"""
    if steps < 2:
        raise ValueError(f"crash_bounce needs at least 2 steps (got {steps})")
    fall_steps = max(1, steps // 4) if crash_steps is None else crash_steps
    if not 1 <= fall_steps < steps:
        raise ValueError(f"crash_steps {fall_steps} must be in 1..{steps - 1}")
    if not 0 <= bounce_bps <= BPS:
        raise ValueError(f"bounce_bps {bounce_bps} must be in [0, {BPS}]")
    noise, bounce = noise_bps / BPS, bounce_bps / BPS
    return _build(
        Shape.CRASH_BOUNCE,
        start,
        depth_bps,
        steps,
        seed,
        noise_bps,
        stables,
        lambda rng, depth: _crash_bounce_levels(rng, depth, steps, noise, fall_steps, bounce),
    )


def make_path(
    shape: Shape | str,
    start: Mapping[str, int],
    depth_bps: Mapping[str, int],
    steps: int,
    seed: int,
    **options: int,
) -> PricePath:
    """The path of a shape named at run time (`"grind"`, `"gap"`, `"crash_bounce"`), with that shape's
    keyword options (`noise_bps`, `gap_step`, `crash_steps`, `bounce_bps`)."""
    builders = {Shape.GRIND: grind, Shape.GAP: gap, Shape.CRASH_BOUNCE: crash_bounce}
    try:
        builder = builders[Shape(shape)]
    except ValueError:
        raise ValueError(
            f"unknown path shape {shape!r}: one of {', '.join(s.value for s in Shape)}"
        ) from None
    return builder(start, depth_bps, steps, seed, **options)  # type: ignore[operator]
