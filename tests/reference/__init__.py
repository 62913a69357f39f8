"""Reference models the tests compare the contracts and the keeper with (importable as
`tests.reference` from tests/contracts, where Brownie puts the project root on sys.path, and from
tests/keeper, whose conftest does)."""
