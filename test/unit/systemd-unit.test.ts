/**
 * Values written into the systemd unit (issue item 23): a newline in
 * `--rules` wrote an `ExecStartPre=` line of its own. Control characters are
 * refused, naming the option; anything else is quoted per systemd's rules,
 * and `systemd-analyze verify` accepts the unit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BadInputError } from '../../core/model/errors.js';
import { systemdUnit } from '../../tui/cli/rules-commands.js';

const dir = mkdtempSync(join(tmpdir(), 'outpost-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const base = { user: true, env: {}, nodePath: process.execPath, script: '/opt/outpost/outpost.mjs' };

function verify(unit: string, name: string): string {
  const path = join(dir, name, 'outpost-agent.service');
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, unit);
  try {
    return execFileSync('systemd-analyze', ['--user', 'verify', '--man=no', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SYSTEMD_LOG_LEVEL: 'notice', XDG_RUNTIME_DIR: dir } });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
}

describe('values in the systemd unit (issue item 23)', () => {
  it.each([
    ['--rules', { rulesFile: '/etc/x\nExecStartPre=/bin/touch /tmp/INJECTED' }, {}],
    ['--rules', { rulesFile: '/etc/x\ry' }, {}],
    ['DOCKER_HOST', {}, { DOCKER_HOST: 'unix:///run/docker.sock\nExecStartPre=/bin/touch /tmp/INJECTED' }],
    ['the path of the node executable', { nodePath: '/usr/bin/no\tde' }, {}],
    ['the path of the outpost script', { script: '/opt/out\u0000post.mjs' }, {}],
  ])('refuses a control character in %s, naming it', (what, over, env) => {
    const make = () => systemdUnit({ ...base, ...over, env });
    expect(make).toThrow(BadInputError);
    expect(make).toThrow(new RegExp(`^${what.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')} \`.*\` holds a control character \\(\\\\x[0-9a-f]{2}\\); a systemd unit cannot hold it: use a path without one\\.$`));
  });

  it('quotes spaces, quotes, backslashes, $ and % so each value is one word that means itself', () => {
    const rulesFile = '/etc/my rules/"odd" \\ $HOME %n;x.yaml';
    const unit = systemdUnit({ ...base, rulesFile, env: { DOCKER_HOST: 'tcp://h:2375/$x%y "q"' } });
    const exec = unit.split('\n').find((l) => l.startsWith('ExecStart='));
    expect(exec).toMatch(/ agent --rules "\/etc\/my rules\/\\"odd\\" \\\\ \$\$HOME %%n;x\.yaml"$/);
    // Environment= does no $ expansion: a $ stays one $; % is still a specifier there.
    expect(unit).toMatch(/^Environment="DOCKER_HOST=tcp:\/\/h:2375\/\$x%%y \\"q\\""$/m);
    // A plain word with a % is quoted too: specifiers expand in unquoted words as well.
    expect(systemdUnit({ ...base, rulesFile: '/etc/100%n.yaml' })).toMatch(/ --rules \/etc\/100%%n\.yaml$/m);
    expect(unit.split('\n').filter((l) => /^ExecStart/.test(l))).toHaveLength(1);
  });

  it.runIf(hasAnalyze)('systemd-analyze verify accepts a unit with such values', () => {
    const unit = systemdUnit({ ...base, script: join(process.cwd(), 'package.json'), rulesFile: '/etc/my rules/"odd" \\ $HOME %n;x.yaml', env: { DOCKER_HOST: 'unix:///run/docker.sock' } });
    expect(verify(unit, 'odd')).toBe('');
  });
});
