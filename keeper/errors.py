"""The keeper's exceptions: each carries one readable sentence for the operator."""

from __future__ import annotations


class KeeperError(Exception):
    """Base class. `str(error)` is a complete sentence that the CLI prints as is."""


class ConfigError(KeeperError):
    """A setting is missing or malformed (flag, environment variable or .env)."""


class DeploymentError(KeeperError):
    """The deployment file is missing or malformed, or names an address without code."""


class ChainError(KeeperError):
    """The node cannot be reached, or it is not the chain the deployment names."""


class FundsError(KeeperError):
    """The keeper's account cannot pay for what it is asked to do."""


class SimulationError(KeeperError):
    """A transaction would revert; `reason` is the decoded custom error, e.g. `MustNotLeaveDust()`."""

    def __init__(self, reason: str):
        super().__init__(f"simulation reverted: {reason}")
        self.reason = reason


class SimulationTimeout(SimulationError):
    """The node did not answer a simulation in time (read timeout, dropped connection): nothing is
    known about the transaction, it did not revert. A `SimulationError` to callers that treat any
    failed simulation alike; the liquidation stage retries it in the next block."""
