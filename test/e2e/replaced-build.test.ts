/**
 * Outpost replaced under a running TUI (a rebuild of dist/, a new package):
 * the placement dialog, loaded only when asked, is gone. The TUI says that
 * Outpost was updated and to start it again, not an import error naming a
 * file in dist/ (what it said before).
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { failureText, UPDATED_TEXT } from '../../tui/app/updated.js';
import { dockerHost } from '../harness/fixtures.js';
import { Tmux } from '../harness/tmux.js';

const home = mkdtempSync(join(tmpdir(), 'op-replaced-'));
let tmux: Tmux | null = null;

afterAll(() => {
  tmux?.kill();
  rmSync(home, { recursive: true, force: true });
});

describe('Outpost replaced under a running TUI', () => {
  it('failureText: a module that cannot be loaded after a replacement is "updated" alone; another failure keeps its words', () => {
    const missing = Object.assign(new Error("Cannot find module '/opt/outpost/dist/chunks/placement-dialog-ABC.mjs'"), { code: 'ERR_MODULE_NOT_FOUND' });
    expect(failureText(missing, () => true)).toBe(UPDATED_TEXT);
    expect(failureText(new Error('engine refused'), () => true)).toBe(`${UPDATED_TEXT} (engine refused)`);
    expect(failureText(missing, () => false)).toContain('Cannot find module');
  });

  it(':place after dist/ was replaced says Outpost was updated and to start it again', async () => {
    const dist = join(home, 'dist');
    cpSync(join(process.cwd(), 'dist'), dist, { recursive: true });
    const spec = join(home, 'web.yaml');
    writeFileSync(spec, 'name: web\nimage: outpost-test/busybox:latest\n');
    tmux = new Tmux();
    tmux.start(`${process.execPath} ${join(dist, 'outpost.mjs')}`, { cols: 120, rows: 30, env: { DOCKER_HOST: dockerHost(), HOME: home, XDG_CONFIG_HOME: join(home, '.config'), TERM: 'xterm-256color', PATH: process.env.PATH ?? '' } });
    // The app itself, not the start file's first frame: its lazy chunks are loaded by then.
    await tmux.waitFor((s) => /logs {2}stats {2}inspect {2}rules/.test(s), 'the app');
    await new Promise((r) => setTimeout(r, 1500));
    // A rebuild: every lazy chunk is a new file, the old ones are gone.
    for (const f of readdirSync(join(dist, 'chunks'))) rmSync(join(dist, 'chunks', f));
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dist, 'app.mjs'), later, later);
    tmux.type(`:place ${spec}`);
    tmux.keys('Enter');
    const screen = await tmux.waitFor((s) => s.includes('Outpost was updated'), 'the updated message');
    expect(screen).toContain('quit with q and start it again');
    expect(screen).not.toMatch(/Cannot find module|ERR_MODULE_NOT_FOUND/);
  });
});
