"""The pool's invariants, by name. Tests use the names as assertion messages, so a failing run says
which property it broke (protocol.md sections 2-8 are the source of each one).

Each constant is a one-sentence statement of the property; `ALL` lists them in the order a reader
should meet them.
"""

# Accounts.
NO_DEBT_WITHOUT_COLLATERAL = "no account has debt without active collateral"

# Reserve books.
RESERVE_ASSETS_ADD_UP = (
    "per reserve, cash + outstanding debt (rounded down) + deficit equals total added assets"
)
USER_DEBTS_COVER_TOTAL_DEBT = (
    "per reserve, the sum of users' debts (each rounded up) is at least the total debt "
    "(rounded down)"
)
DEBT_ROUNDING_AT_MOST_ONE_WEI_PER_BORROWER = (
    "per reserve, the sum of users' debts exceeds the total debt by at most one wei per borrower"
)
POOL_HOLDS_ITS_CASH = "per reserve, the pool's token balance is at least the reserve's cash"
SUPPLY_SHARES_ADD_UP = (
    "per reserve, the supply shares of all users, liquidators and the fee receiver sum to "
    "totalSupplyShares"
)
DRAWN_SHARES_ADD_UP = "per reserve, the drawn shares of all users sum to totalDrawnShares"
SHARE_PRICE_NEVER_FALLS = (
    "a reserve's supply share price never falls, except when settleDeficit socialises a loss"
)
BORROW_INDEX_NEVER_FALLS = "a reserve's borrow index never falls"
ZERO_RATE_INDEX_STAYS_RAY = (
    "a reserve with a zero-rate model keeps its borrow index at exactly 1e27"
)
SETTLE_CLEARS_DEFICIT = "settleDeficit leaves the reserve with no deficit"
DEFICIT_SETTLED_AT_ONCE = (
    "a liquidation that reports a deficit on a reserve that is not paused settles it in the same call"
)

# Liquidations.
LIQUIDATOR_PAYS_AT_MOST_DEBT_TO_COVER = "a liquidator never pays more than debtToCover"
PREVIEW_MATCHES_LIQUIDATION = (
    "previewLiquidation in the same state and block equals the liquidation's outcome "
    "(LiquidationCall fields and balance deltas)"
)
PREVIEW_REVERTS_AS_LIQUIDATION = "previewLiquidation reverts exactly as liquidate would"
LIQUIDATION_LEAVES_NO_DUST = (
    "after a liquidation the debt reserve is repaid, or the collateral reserve is fully seized, "
    "or both remaining sides are worth at least $1,000"
)
LIQUIDATION_MATCHES_SPEC_MATH = (
    "a liquidation moves exactly the amounts of protocol.md section 5 (tests/reference/protocol_math)"
)
DEFICIT_WRITES_OFF_ALL_REMAINING_DEBT = (
    "a liquidation that empties the only active collateral writes every remaining debt off "
    "as deficit"
)

# The model (every rule either expects a named revert or updates the model).
REVERTS_AS_SPECIFIED = (
    "an operation reverts exactly when, and with the error that, the spec predicts"
)
OUTCOME_MATCHES_MODEL = "a successful operation moves exactly the amounts the model predicts"
RESERVE_STATE_MATCHES_MODEL = (
    "each reserve's cash, shares, deficit, borrow index and config equal the model's"
)
POSITIONS_MATCH_MODEL = (
    "each account's supply shares, drawn shares, position view and reserve bitmap equal the model's"
)
ACCOUNT_DATA_MATCHES_MODEL = "getUserAccountData equals the health-factor computation of section 3"
POOL_BALANCE_MATCHES_BOOKS = (
    "the pool's token balance is its cash plus direct donations, to the wei"
)

# Pure math (test_rounding_properties.py).
SHARE_CONVERSIONS_MATCH_SPEC = (
    "supply and withdraw convert assets and shares with the virtual offset and the rounding "
    "directions of section 2"
)

ALL = [
    NO_DEBT_WITHOUT_COLLATERAL,
    RESERVE_ASSETS_ADD_UP,
    USER_DEBTS_COVER_TOTAL_DEBT,
    DEBT_ROUNDING_AT_MOST_ONE_WEI_PER_BORROWER,
    POOL_HOLDS_ITS_CASH,
    SUPPLY_SHARES_ADD_UP,
    DRAWN_SHARES_ADD_UP,
    SHARE_PRICE_NEVER_FALLS,
    BORROW_INDEX_NEVER_FALLS,
    ZERO_RATE_INDEX_STAYS_RAY,
    SETTLE_CLEARS_DEFICIT,
    DEFICIT_SETTLED_AT_ONCE,
    LIQUIDATOR_PAYS_AT_MOST_DEBT_TO_COVER,
    PREVIEW_MATCHES_LIQUIDATION,
    PREVIEW_REVERTS_AS_LIQUIDATION,
    LIQUIDATION_LEAVES_NO_DUST,
    LIQUIDATION_MATCHES_SPEC_MATH,
    DEFICIT_WRITES_OFF_ALL_REMAINING_DEBT,
    REVERTS_AS_SPECIFIED,
    OUTCOME_MATCHES_MODEL,
    RESERVE_STATE_MATCHES_MODEL,
    POSITIONS_MATCH_MODEL,
    ACCOUNT_DATA_MATCHES_MODEL,
    POOL_BALANCE_MATCHES_BOOKS,
    SHARE_CONVERSIONS_MATCH_SPEC,
]
