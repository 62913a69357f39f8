"""The pieces of a market-driven crash on the devnet (issue 17), each module with one job; the
scenario engine sequences them block by block together with the keeper.

- `paths`: the exogenous reference price path (grind, gap, crash with bounce), seeded and pure.
- `pool_prices`: a risky asset's USD mid price from its Uniswap V3 pool's sqrtPriceX96, and back.
- `transactions`: sending from an account the node signs for, now (hash) or waiting (receipt).
- `swaps`: exact-input swaps through the deployed SwapRouter and their fills from the Swap event.
- `arbitrageur`: moves a pool toward the reference with a finite inventory.
- `sell_pressure`: an exogenous seller of a fixed amount per step.
- `liquidity`: a position between two USD prices of the risky asset, so a pool has depth all along a
  crash (the deploy's band is +-2% of the start price, with nothing outside it).
- `publisher`: the Chainlink-style deviation/heartbeat publisher of the MockPriceFeeds, with the
  attribution of updates to the market alone (cascade) against the reference."""
