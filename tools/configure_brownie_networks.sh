#!/usr/bin/env bash
# Adds the `ganache` development network to Brownie's user configuration (~/.brownie) once.
# Ganache 7 runs Shanghai, the EVM version the contracts are compiled for; it listens on 8546 (or
# GANACHE_PORT) so that it can run beside Anvil on 8545.
set -euo pipefail
config="${HOME}/.brownie/network-config.yaml"
if [[ -f "$config" ]] && grep -q "^  id: ganache$" "$config"; then
  exit 0
fi
brownie networks add Development ganache cmd=ganache host=http://127.0.0.1 port="${GANACHE_PORT:-8546}" \
  evm_version=shanghai chain_id=1337 accounts=10 mnemonic=brownie gas_limit=30000000 >/dev/null
echo "brownie: added the 'ganache' development network (port ${GANACHE_PORT:-8546}, shanghai)"
