#!/usr/bin/env node
// Makes solc-js (npm `solc`) answer like the native `solc` binary that py-solc-x and Brownie drive:
//   solc --version                      -> "Version: <x.y.z+commit...>"
//   solc --standard-json [--allow-paths DIR] [--base-path DIR]  <input.json  -> output JSON on stdout
// Imports that are not in the input are read from disk, relative to the working directory or
// to any --base-path / --include-path given. No compiler is ever downloaded.
'use strict';
const fs = require('fs');
const path = require('path');

const projectRoot = path.resolve(__dirname, '..');
const solc = require(path.join(projectRoot, 'node_modules', 'solc'));

function parseArgs(argv) {
  const opts = { version: false, standardJson: false, roots: [process.cwd(), projectRoot] };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--version') opts.version = true;
    else if (arg === '--standard-json') opts.standardJson = true;
    else if (arg === '--base-path' || arg === '--include-path') opts.roots.push(argv[++i]);
    else if (arg === '--allow-paths') i += 1; // the callback below decides what may be read
    else if (arg.startsWith('--allow-paths=')) continue;
    else if (arg === '-') continue;
    else throw new Error(`solc-shim: unsupported argument ${arg}`);
  }
  return opts;
}

function findImport(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : opts.roots.map((r) => path.join(r, importPath));
  for (const file of candidates) {
    if (fs.existsSync(file) && fs.statSync(file).isFile()) {
      return { contents: fs.readFileSync(file, 'utf8') };
    }
  }
  return { error: `File not found: ${importPath}` };
}

const opts = parseArgs(process.argv.slice(2));
if (opts.version) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!opts.standardJson) {
  process.stderr.write('solc-shim: only --version and --standard-json are supported\n');
  process.exit(2);
}
const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImport }));
