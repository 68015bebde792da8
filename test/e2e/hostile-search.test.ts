/** A search that would backtrack for hours in JavaScript's engine keeps the logs view answering keys. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../harness/cli.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { Tmux } from '../harness/tmux.js';

const P = 'hsearch-';
let home: string;
let tmux: Tmux;

beforeAll(async () => {
  if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  home = mkdtempSync(join(tmpdir(), 'op-hsearch-'));
  await makeContainer(docker(), { name: `${P}redos`, cmd: 'i=0; while [ $i -lt 50 ]; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done; echo the-end; sleep 3600' });
});
afterAll(async () => {
  tmux?.kill();
  rmSync(home, { recursive: true, force: true });
  await removeByPrefix(docker(), P);
});

describe('logs view search', () => {
  it('/(x+)+y/ over lines of forty x: answered at once, and every key still works', async () => {
    tmux = new Tmux();
    tmux.start(`${process.execPath} ${join(process.cwd(), BIN)}`, {
      cols: 100,
      rows: 30,
      env: { DOCKER_HOST: dockerHost(), HOME: home, XDG_CONFIG_HOME: join(home, '.config'), TERM: 'xterm-256color', PATH: process.env.PATH ?? '' },
    });
    await tmux.waitFor((s) => s.includes(`${P}redos`), 'the list');
    tmux.type(`:logs ${P}redos`);
    tmux.keys('Enter');
    await tmux.waitFor((s) => s.split('\n')[0]?.startsWith('logs') === true && s.includes('the-end'), 'the logs');
    tmux.type('/');
    tmux.type('/(x+)+y/');
    tmux.keys('Enter');
    await tmux.waitFor((s) => /no match|0 match/.test(s), 'the search answered', 5000);
    tmux.type('/');
    tmux.type('/the-(end)/');
    tmux.keys('Enter');
    await tmux.waitFor((s) => /1\/1/.test(s), 'a second search answered', 5000);
    tmux.keys('C-c');
    await eventually(() => tmux.dead(), 5000, 'the TUI to quit');
    expect(tmux.dead()).toBe(true);
  });
});
