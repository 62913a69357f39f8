"""liqengine keeper: finds liquidatable accounts on a liqengine pool and liquidates them."""

__version__ = "0.1.0"
