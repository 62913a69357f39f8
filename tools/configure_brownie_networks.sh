#!/usr/bin/env bash
# Adds the project's two development networks to Brownie's user configuration (~/.brownie), each once:
#
#   liqengine-dev  Brownie's own Anvil for `make test` and `make bench`, on LIQENGINE_DEV_PORT (default
#                  8555) rather than 8545, where Brownie's `development` network attaches to whatever
#                  node already listens (a devnet left running, someone else's node).
#   ganache        Ganache 7 with the Shanghai EVM the contracts are compiled for, on GANACHE_PORT
#                  (default 8546), so that it can run beside Anvil.
#
# Brownie 1.22 cannot declare networks in brownie-config.yaml (its `networks:` section only adjusts the
# settings of networks that already exist), hence this script. An existing entry is left as it is: move
# one with `brownie networks modify liqengine-dev port=N`.
set -euo pipefail
config="${HOME}/.brownie/network-config.yaml"

has_network() {
  [[ -f "$config" ]] && grep -q "^  id: $1$" "$config"
}

if ! has_network liqengine-dev; then
  port="${LIQENGINE_DEV_PORT:-8555}"
  brownie networks add Development liqengine-dev cmd=anvil host=http://127.0.0.1 port="$port" \
    accounts=10 base_fee=0 gas_limit=12000000 >/dev/null
  echo "brownie: added the 'liqengine-dev' development network (Anvil on port $port)"
fi

if ! has_network ganache; then
  port="${GANACHE_PORT:-8546}"
  brownie networks add Development ganache cmd=ganache host=http://127.0.0.1 port="$port" \
    evm_version=shanghai chain_id=1337 accounts=10 mnemonic=brownie gas_limit=30000000 >/dev/null
  echo "brownie: added the 'ganache' development network (port $port, shanghai)"
fi
