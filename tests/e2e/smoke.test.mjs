// The binary runs and explains itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { tollgateBin } from './lib/proc.mjs';

test('tollgate --version prints the version', () => {
  const out = execFileSync(tollgateBin, ['--version']).toString();
  assert.match(out, /^tollgate \d+\.\d+\.\d+\n$/);
});

test('tollgate --help lists every subcommand', () => {
  const out = execFileSync(tollgateBin, ['--help']).toString();
  for (const cmd of ['serve', 'gpu', 'check', 'sim']) assert.match(out, new RegExp(`^  ${cmd} `, 'm'));
});

test('an unknown subcommand fails with usage on stderr', () => {
  const r = spawnSync(tollgateBin, ['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr.toString(), /unknown command 'frobnicate'/);
});
