/**
 * The one decision "is this container fenced on this node?" (core/agent/placement-link.ts, fenceOf):
 * the running controller of the state directory answers; else placement-state.json does. And the
 * refusal every face shows (FencedError) says which workload, why, the risk and the override.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fenceOf, isFencedContainer, linkFences, PLACEMENT_STATE_FILE } from '../../core/agent/placement-link.js';
import { describeIssues, ROUTES } from '../../core/api/routes.js';
import { exitCodeFor, FencedError, httpStatusFor, rebuildError } from '../../core/model/errors.js';

const ID = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'op-fence-'));
  dirs.push(d);
  return d;
};
const writeState = (d: string, fenced: Record<string, unknown>) =>
  writeFileSync(join(d, PLACEMENT_STATE_FILE), JSON.stringify({ version: 1, self: 'gw-1', failover: { fenced }, specs: {} }));

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('fenceOf', () => {
  it('is null without a placement state, and reads the fence failover recorded in it', () => {
    const d = dir();
    expect(fenceOf(d, ID)).toBeNull();
    writeState(d, { [ID]: { workload: 'web', replica: 0, atMs: 1000, stopMs: 1000, reason: 'cut off' } });
    expect(fenceOf(d, ID)).toEqual({ workload: 'web', replica: 0, atMs: 1000, reason: 'cut off' });
    expect(fenceOf(d, OTHER)).toBeNull();
    expect(isFencedContainer(d, ID)).toBe(true);
  });

  it('follows the file when it changes (a fence cleared is no longer refused)', () => {
    const d = dir();
    writeState(d, { [ID]: { workload: 'web' } });
    expect(fenceOf(d, ID)?.workload).toBe('web');
    writeState(d, {});
    expect(fenceOf(d, ID)).toBeNull();
  });

  it('a damaged file or a hand-edited record fences nothing it cannot read, and never throws', () => {
    const d = dir();
    writeFileSync(join(d, PLACEMENT_STATE_FILE), '{not json');
    expect(fenceOf(d, ID)).toBeNull();
    writeState(d, { [ID]: 'junk', __proto__x: { workload: 7 } });
    expect(fenceOf(d, ID)).toEqual({ workload: `container ${ID.slice(0, 12)}` });
  });

  it('the running controller answers instead of the file while it is linked', () => {
    const d = dir();
    writeState(d, { [ID]: { workload: 'web' } });
    const unlink = linkFences(d, (id) => (id === OTHER ? { workload: 'db', replica: 0 } : null));
    try {
      expect(fenceOf(d, ID)).toBeNull();
      expect(fenceOf(d, OTHER)).toEqual({ workload: 'db', replica: 0 });
    } finally {
      unlink();
    }
    expect(fenceOf(d, ID)?.workload).toBe('web');
  });
});

describe('FencedError', () => {
  it('names the workload, why it was fenced, the risk and the override; 409 and exit 5; survives the wire', () => {
    const err = new FencedError({ workload: 'web replica 0', containerId: ID, node: 'gw-1', reason: 'cut off', atMs: 5 });
    expect(err.code).toBe('FENCED');
    expect(err.message).toContain('web replica 0 (container aaaaaaaaaaaa) is fenced on gw-1');
    expect(err.message).toContain('cut off from a majority');
    expect(err.message).toContain('a replacement may run on another node');
    expect(err.message).toContain('may run it twice');
    expect(err.message).toContain('--override-fence');
    expect(err.message).toContain('"overrideFence": true');
    expect(httpStatusFor(err)).toBe(409);
    expect(exitCodeFor(err)).toBe(5);
    const back = rebuildError('FENCED', err.message, err.details);
    expect(back).toBeInstanceOf(FencedError);
    expect(back.details).toMatchObject({ workload: 'web replica 0', containerId: ID, node: 'gw-1' });
  });
});

describe('the override on the API', () => {
  it('start and restart take overrideFence as a boolean; anything else is refused naming the field', () => {
    expect(ROUTES.start.body.safeParse({ overrideFence: true }).success).toBe(true);
    expect(ROUTES.start.body.safeParse({}).success).toBe(true);
    expect(ROUTES.restart.body.safeParse({ timeoutSeconds: 3, overrideFence: false }).success).toBe(true);
    for (const bad of ['yes', 1, null, 'true']) {
      const r = ROUTES.start.body.safeParse({ overrideFence: bad });
      expect(r.success).toBe(false);
      if (!r.success) expect(describeIssues('body', r.error).field).toBe('body.overrideFence');
    }
    const extra = ROUTES.start.body.safeParse({ override: true });
    expect(extra.success).toBe(false);
  });
});
