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
