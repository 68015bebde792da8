/**
 * `outpost docs`: the reference carried inside the build, the same text as
 * docs/, for a box that has only the executable (`--help` named
 * docs/cli.md, which is not there).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { outpost } from '../harness/cli.js';

describe('outpost docs', () => {
  it('lists the topics, and prints each one as docs/ has it', async () => {
    const list = await outpost(['docs']);
    expect(list.code).toBe(0);
    for (const topic of ['cli', 'rules', 'placement', 'api']) {
      expect(list.stdout).toMatch(new RegExp(`^  ${topic} `, 'm'));
      const r = await outpost(['docs', topic]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(readFileSync(`docs/${topic}.md`, 'utf8'));
    }
  });

  it('--help points at it, not at a file the box does not have', async () => {
    const r = await outpost(['ps', '--help']);
    expect(r.stdout).toContain('outpost docs cli');
    expect(r.stdout).not.toContain('docs/cli.md');
  });

  it('refuses an unknown or hostile topic with exit 2, naming the topics, and keeps it inert', async () => {
    for (const topic of ['nope', '../../etc/passwd', '__proto__', 'x\x1b]0;owned\x07']) {
      const r = await outpost(['docs', topic]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('the topics are cli, rules, placement, api');
      expect(r.stderr).not.toContain('\x1b');
    }
  });
});
