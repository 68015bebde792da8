/**
 * The local rules port when the engine cannot answer (issue item 24):
 * `journal -c NAME` printed nothing and exited 0 when the engine was down,
 * where it exits 2 for an unknown name with the engine up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalRules } from '../../core/agent/local-rules.js';
import { Journal } from '../../core/agent/journal.js';
import { EngineUnreachableError } from '../../core/model/errors.js';
import type { RulesPort } from '../../core/rules/port.js';
import { rulesExplain } from '../../tui/cli/rules-commands.js';

const dir = mkdtempSync(join(tmpdir(), 'outpost-port-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('journal for a container when the engine is away (issue item 24)', () => {
  const down = new EngineUnreachableError('unix:///nonexistent.sock', 'connect ENOENT');
  const offline = { name: 'local', containers: () => [], list: () => Promise.reject(down), statsOnce: () => Promise.reject(down) };

  it('a name the journal does not know is the engine error, not an empty answer', async () => {
    const { journal } = Journal.open(dir);
    journal.append({ ts: 1, node: 'local', kind: 'act', rule: 'crash', container: 'web', reason: 'restarted web' });
    journal.close();
    const rules = new LocalRules(offline, { rulesFile: join(dir, 'rules.yaml'), stateDir: dir });
    await expect(rules.journal({ container: 'nosuch' })).rejects.toBe(down);
    // A name the journal knows needs no engine.
    expect((await rules.journal({ container: 'web' })).map((e) => e.reason)).toEqual(['restarted web']);
  });
});

describe('rules explain with an agent that could not write its record (issue item 16)', () => {
  it('names its pid from the lock and prints its problems', async () => {
    const full = 'the disk holding /var/lib/outpost is full (0 bytes available)';
    const port = {
      agent: async () => ({ running: true, record: null, reason: null, pid: 42, problems: [full] }),
      explain: async () => ({ statuses: [], problems: [], rules: [] }),
    } as unknown as RulesPort;
    let out = '';
    const io = { out: (t: string) => (out += t), err: (t: string) => (out += t), isTTY: false, env: {} };
    expect(await rulesExplain(port, undefined, {}, io)).toBe(0);
    expect(out.split('\n').slice(0, 2)).toEqual(['agent: running (pid 42)', `problem: ${full}`]);
  });
});
