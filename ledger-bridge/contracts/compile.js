#!/usr/bin/env node
// Compiles FlotillaEscrow.sol with the pinned npm solc (evmVersion shanghai, which ganache 7.9.2
// runs) and writes the ABI and bytecode next to it; the build puts them on the Java class path.
// Usage (from ledger-bridge/): npm ci && node contracts/compile.js
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const dir = __dirname;
const source = fs.readFileSync(path.join(dir, 'FlotillaEscrow.sol'), 'utf8');
const input = {
  language: 'Solidity',
  sources: { 'FlotillaEscrow.sol': { content: source } },
  settings: {
    evmVersion: 'shanghai',
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
(output.errors || []).forEach((e) => console.error(e.formattedMessage));
if (errors.length > 0) {
  process.exit(1);
}
const contract = output.contracts['FlotillaEscrow.sol'].FlotillaEscrow;
const abi = JSON.stringify(contract.abi, null, 2) + '\n';
const bin = contract.evm.bytecode.object + '\n';
fs.writeFileSync(path.join(dir, 'FlotillaEscrow.abi'), abi);
fs.writeFileSync(path.join(dir, 'FlotillaEscrow.bin'), bin);
console.log('compiled FlotillaEscrow with solc ' + solc.version() + ' (evmVersion shanghai)');
