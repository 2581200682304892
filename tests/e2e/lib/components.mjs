// Which tollgate subcommands are real in this build. Until a subcommand
// lands, its placeholder exits 2 "not implemented" (serve, gpu) or ignores
// --help (the early sim), so `<cmd> --help` exiting 0 means it is real.
import { spawnSync } from 'node:child_process';
import { tollgateBin } from './proc.mjs';

export function implemented(cmd) {
  const r = spawnSync(tollgateBin, [cmd, '--help'], { timeout: 3000, stdio: 'ignore' });
  return !r.error && r.status === 0;
}
