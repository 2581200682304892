// `make install`: the layout under DESTDIR with PREFIX=/usr, the installed
// paths written into the units and the Prometheus config, the man pages
// render with `man -l`, and an install into a real prefix works as
// installed: `systemd-analyze verify` on its units, `promtool check config`
// on its Prometheus config (rules found by their absolute path), and the
// bash completion lists the subcommands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from './lib/proc.mjs';
import { have } from './lib/stack.mjs';

const build = path.dirname(process.env.TOLLGATE_BIN || path.join(repoRoot, 'build/tollgate'));
function makeInstall(vars) {
  const r = spawnSync('make', ['-s', 'install', `BUILD=${build}`, 'JOBS=2', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)],
    { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout;
}
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', ...opts });
const commands = ['serve', 'gpu', 'check', 'sim', 'top'];

test('make install DESTDIR=tmp PREFIX=/usr: the usual places, and paths for where it lands', () => {
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-destdir-'));
  try {
    assert.match(makeInstall({ DESTDIR: dest, PREFIX: '/usr' }), /installed under/);
    const D = (p) => path.join(dest, p);
    const want = ['usr/bin/tollgate', 'usr/share/man/man1/tollgate.1', ...commands.map((c) => `usr/share/man/man1/tollgate-${c}.1`),
      'usr/share/bash-completion/completions/tollgate', 'usr/share/zsh/site-functions/_tollgate',
      'usr/lib/systemd/system/tollgate-serve.service', 'usr/lib/systemd/system/tollgate-gpu.service', 'usr/lib/systemd/system/tollgate-sim.service',
      'etc/tollgate/litellm_config.yaml', 'etc/tollgate/prometheus.yaml', 'etc/tollgate/rules/recording.yaml', 'etc/tollgate/rules/alerts.yaml',
      'usr/share/doc/tollgate/LICENSE', 'usr/share/doc/tollgate/examples/docker-compose/grafana/dashboards/tollgate-llm.json'];
    for (const f of want) assert.ok(fs.statSync(D(f)).isFile(), f);
    assert.ok(fs.statSync(D('usr/bin/tollgate')).mode & 0o111);
    const unit = fs.readFileSync(D('usr/lib/systemd/system/tollgate-serve.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/usr\/bin\/tollgate serve --config \/etc\/tollgate\/litellm_config\.yaml /m);
    assert.doesNotMatch(unit, /\/usr\/local/);
    const prom = fs.readFileSync(D('etc/tollgate/prometheus.yaml'), 'utf8');
    assert.match(prom, /^ {2}- \/etc\/tollgate\/rules\/\*\.yaml$/m);
    assert.doesNotMatch(prom, /\.\.\//);
    // Every man page renders, and says what --help says.
    for (const page of ['tollgate', ...commands.map((c) => `tollgate-${c}`)]) {
      const r = run('man', ['-l', D(`usr/share/man/man1/${page}.1`)], { env: { ...process.env, MANWIDTH: '120', MAN_KEEP_FORMATTING: '' } });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, new RegExp(`^${page.toUpperCase()}\\(1\\)`));
      const cmd = page.split('-')[1];
      const help = run(D('usr/bin/tollgate'), cmd ? [cmd, '--help'] : ['--help']).stdout;
      const firstOpt = help.split('\n').find((l) => /^ {2}--/.test(l)) || help.split('\n')[0];
      assert.ok(r.stdout.includes(firstOpt.trim()), `${page}: ${firstOpt}`);
    }
  } finally { fs.rmSync(dest, { recursive: true, force: true }); }
});

test('installed into a prefix: units verify, the Prometheus config checks, completion works', { skip: !have('promtool') && 'promtool not installed' }, () => {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-prefix-'));
  try {
    makeInstall({ PREFIX: prefix });
    const P = (p) => path.join(prefix, p);
    const r = run('promtool', ['check', 'config', P('etc/tollgate/prometheus.yaml')], { cwd: os.tmpdir() });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /SUCCESS: 2 rule files found/);
    if (have('systemd-analyze')) {
      const units = fs.readdirSync(P('lib/systemd/system'));
      assert.equal(units.length, 3);
      const v = run('systemd-analyze', ['verify', ...units.map((u) => P(`lib/systemd/system/${u}`))], { env: { ...process.env, SYSTEMD_LOG_LEVEL: 'warning' } });
      assert.equal(v.status, 0, v.stdout + v.stderr);
      assert.equal((v.stdout + v.stderr).trim(), '');
    }
    const c = run('bash', ['-c', `source ${P('share/bash-completion/completions/tollgate')}; COMP_WORDS=(${P('bin/tollgate')} s); COMP_CWORD=1; _tollgate; echo "\${COMPREPLY[@]}"; COMP_WORDS=(${P('bin/tollgate')} top --o); COMP_CWORD=2; _tollgate; echo "\${COMPREPLY[@]}"`]);
    assert.equal(c.stdout, 'serve sim\n--once\n');
  } finally { fs.rmSync(prefix, { recursive: true, force: true }); }
});
