import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PREFS, loadPrefs, validatePrefs } from '../../tui/app/prefs.js';
import { confSettings, DEFAULT_SETTINGS } from '../../desktop/src/main/settings.js';
import { parsePeers } from '../../core/peers/config.js';

function dirWith(make: (file: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'op-prefs-'));
  mkdirSync(dir, { recursive: true });
  make(join(dir, 'tui.json'));
  return dir;
}

describe('the preferences file, hostile', () => {
  it("treats keys named like Object's own members as unknown keys", () => {
    const raw = JSON.parse('{"constructor": 1, "toString": "x", "__proto__": {"logBufferLines": 5}, "hasOwnProperty": null, "logBufferLines": 200}') as unknown;
    const { prefs, problems } = validatePrefs(raw);
    expect(prefs).toEqual({ ...DEFAULT_PREFS, logBufferLines: 200 });
    expect(problems).toHaveLength(4);
    for (const k of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) expect(problems.some((p) => p.includes(`\`${k}\``))).toBe(true);
    expect(({} as Record<string, unknown>).logBufferLines).toBeUndefined(); // nothing reached Object.prototype
  });

  it('reads those keys from a real file without crashing', async () => {
    const dir = dirWith((f) => writeFileSync(f, '{"constructor": 1, "__proto__": {"x": 1}, "toString": 2}'));
    const r = await loadPrefs(dir);
    expect(r.prefs).toEqual(DEFAULT_PREFS);
    expect(r.problems).toHaveLength(3);
  });

  it.each([
    ['a FIFO', (f: string) => execFileSync('mkfifo', [f]), /not a regular file \(a FIFO\)/],
    ['/dev/zero', (f: string) => symlinkSync('/dev/zero', f), /not a regular file \(a device\)/],
    ['a directory', (f: string) => mkdirSync(f), /not a regular file \(a directory\)/],
    ['a 55 MB file', (f: string) => {
      writeFileSync(f, '');
      truncateSync(f, 55 * 1024 * 1024);
    }, /55\.0 MiB; at most 64\.0 KiB/],
  ])('refuses %s at once, with the path, and uses the defaults', async (_what, make, message) => {
    const dir = dirWith(make);
    const started = Date.now();
    const r = await loadPrefs(dir);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.prefs).toEqual(DEFAULT_PREFS);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toContain(join(dir, 'tui.json'));
    expect(r.problems[0]).toMatch(message);
  });
});

describe('the preferences file holds an object (issue item 24)', () => {
  it.each([
    ['5', 'a number'],
    ['[]', 'a list'],
    ['"x"', 'a string'],
    ['null', 'null'],
    ['true', 'true or false'],
  ])('%s is refused naming the file and saying an object is expected', async (text, what) => {
    const dir = dirWith((f) => writeFileSync(f, text));
    const r = await loadPrefs(dir);
    expect(r.prefs).toEqual(DEFAULT_PREFS);
    expect(r.problems).toEqual([`${join(dir, 'tui.json')}: expected a JSON object of preferences (like {"logBufferLines": 10000}), got ${what}; using the defaults until it is fixed`]);
  });

  it('a file that starts with a UTF-8 byte order mark is read like any other', async () => {
    const dir = dirWith((f) => writeFileSync(f, '\uFEFF{"logBufferLines": 500, "confirmKill": false}\n'));
    const r = await loadPrefs(dir);
    expect(r.problems).toEqual([]);
    expect(r.prefs).toEqual({ ...DEFAULT_PREFS, logBufferLines: 500, confirmKill: false });
  });

  it('JSON that does not parse names the file and where', async () => {
    const dir = dirWith((f) => writeFileSync(f, '{"logBufferLines": 5'));
    const r = await loadPrefs(dir);
    expect(r.prefs).toEqual(DEFAULT_PREFS);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(new RegExp(`^cannot read ${join(dir, 'tui.json').replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')}: not valid JSON \\(.+\\); using the defaults until it is fixed$`));
  });
});

describe("the tray's settings file, sibling of tui.json (issue item 24)", () => {
  it('a byte order mark does not stop the tray: the settings in the file are read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-desktop-'));
    writeFileSync(join(dir, 'desktop.json'), '\uFEFF{"notifications": false}');
    const store = await confSettings(dir);
    expect(store.get()).toEqual({ ...DEFAULT_SETTINGS, notifications: false });
  });
});

describe('the peers file, sibling of tui.json (issue item 24)', () => {
  it('a byte order mark is accepted', () => {
    expect(parsePeers('\uFEFF{"peers": []}', 'peers.json')).toEqual([]);
  });
});
