// SPDX-License-Identifier: Apache-2.0
// run.mjs - peer for bench/intel_bench.sh: @phala/dcap-qvl (pure JavaScript) verifying the
// same quote and dcap-qvl collateral JSON at the same time, N times (after a warm-up), and
// printing "peer_verifications_per_s <rate>" plus the status it computed.
// Usage: node run.mjs QUOTE COLLATERAL_JSON UNIX_TIME [SECONDS]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { verify } = require('@phala/dcap-qvl');

const [quotePath, collPath, at, secsArg] = process.argv.slice(2);
if (!quotePath || !collPath || !at) {
  console.error('usage: node run.mjs QUOTE COLLATERAL_JSON UNIX_TIME [SECONDS]');
  process.exit(2);
}
const quote = new Uint8Array(readFileSync(quotePath));
const collateral = JSON.parse(readFileSync(collPath, 'utf8'));
const now = Number(at);
const secs = Number(secsArg || 3);

let status;
try {
  status = verify(quote, collateral, now).status; // warm-up and correctness check
} catch (e) {
  console.error(`peer_error ${e.message}${e.cause ? ': ' + (e.cause.message || e.cause) : ''}`);
  process.exit(1);
}
let n = 0;
const t0 = process.hrtime.bigint();
let el = 0;
while (el < secs) {
  verify(quote, collateral, now);
  n++;
  el = Number(process.hrtime.bigint() - t0) / 1e9;
}
console.log(`peer_status ${status}`);
console.log(`peer_verifications_per_s ${(n / el).toFixed(1)}`);
