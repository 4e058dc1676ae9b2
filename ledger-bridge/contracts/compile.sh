#!/bin/sh
# Regenerates FlotillaEscrow.abi/.bin from FlotillaEscrow.sol with the pinned npm solc.
set -eu
cd "$(dirname "$0")/.."
[ -d node_modules/solc ] || npm ci --no-audit --no-fund
exec node contracts/compile.js
