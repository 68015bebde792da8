/**
 * An agent restarted in the middle of a client's streams: the client's log
 * view, its events and its journal follow carry on from where they were,
 * without a gap and without a line, an event or an entry given twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../core/agent/journal.js';
import { LocalRules } from '../../core/agent/local-rules.js';
import { ApiServer } from '../../core/api/server.js';
import { loadOrCreateIdentity, type TlsIdentity } from '../../core/api/tls.js';
import { createToken } from '../../core/api/tokens.js';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import type { ContainerEvent } from '../../core/model/types.js';
import { RemoteNode } from '../../core/remote/remote-node.js';
import type { JournalEntry } from '../../core/rules/types.js';
import { LogSession, type LogEntry } from '../../tui/logs/log-session.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'resume-';
let dir: string;
let stateDir: string;
let node: LocalNode;
let identity: TlsIdentity;
let token: string;
let server: ApiServer;
let port: number;

async function startAgent(): Promise<void> {
  server = await ApiServer.start({ node, stateDir, host: '127.0.0.1', port, identity, authFailures: { max: 1_000_000, windowMs: 60_000 } });
  port = server.port;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-resume-'));
  stateDir = join(dir, 'state');
  node = new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST'), rules: (n) => new LocalRules(n, { rulesFile: join(dir, 'rules.yaml'), stateDir }) });
  await node.connect();
  identity = await loadOrCreateIdentity(stateDir);
  token = createToken(stateDir, 'op', 'operator');
  port = 0;
  await startAgent();
});
afterAll(async () => {
  await server?.close();
  await node?.close();
  await removeByPrefix(docker(), P);
  rmSync(dir, { recursive: true, force: true });
});

/** The agent goes away for `downMs` (every client connection cut), then comes back on the same port. */
async function restartAgent(downMs: number, meanwhile?: () => Promise<void>): Promise<void> {
  await server.close();
  await meanwhile?.();
  await new Promise((r) => setTimeout(r, downMs));
  await startAgent();
}

describe('an agent restarted mid-stream', () => {
  it('the log view, the events and the journal resume without gaps or repeats', async () => {
    const ticker = await makeContainer(docker(), { name: `${P}ticker`, cmd: "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo \"tick $i\"; sleep 0.05; done" });
    const peer = new RemoteNode({ name: 'gw-2', url: server.url, fingerprint: identity.fingerprint, token, reconnectMinMs: 100, reconnectMaxMs: 500 });
    await peer.connect();
    const tickerId = (await ticker.inspect()).Id;
    const session = new LogSession([{ node: peer, id: tickerId, name: `${P}ticker` }], { capacity: 100_000, tail: 5 });
    const events: ContainerEvent[] = [];
    const offEvents = peer.watchEvents((e) => events.push(e));
    const entries: JournalEntry[] = [];
    const offJournal = peer.rules.followJournal((e) => entries.push(e));
    const { journal } = Journal.open(stateDir);
    const all = () => Array.from({ length: session.buffer.size }, (_, i) => session.buffer.at(i) as LogEntry);
    try {
      const ticks = () => all().filter((e) => e.stream === 'stdout').map((e) => Number(e.text.split(' ')[1]));
      await eventually(() => ticks().length > 20, 10_000, 'ticks before the restart');
      // The journal stream is open once a probe arrives.
      await eventually(() => {
        journal.append({ ts: Date.now(), node: 'local', kind: 'notify', rule: 'probe', reason: 'probe' });
        return entries.length > 0;
      }, 10_000, 'the journal follow open');
      const firstSeq = (entries[0] as JournalEntry).seq;
      for (let i = 0; i < 3; i++) journal.append({ ts: Date.now(), node: 'local', kind: 'notify', rule: 'r', reason: `before ${i}` });
      await eventually(() => entries.some((e) => e.reason === 'before 2'), 10_000, 'entries before the restart');

      // While the agent is away: lines go on, a container dies, the journal grows.
      let diedId = '';
      await restartAgent(1500, async () => {
        const dies = await makeContainer(docker(), { name: `${P}dies`, cmd: 'exit 7' });
        diedId = (await dies.inspect()).Id;
        await dies.wait();
        for (let i = 0; i < 3; i++) journal.append({ ts: Date.now(), node: 'local', kind: 'notify', rule: 'r', reason: `while away ${i}` });
      });
      expect(diedId).not.toBe('');
      await eventually(() => peer.status().state === 'online', 10_000, 'the peer back online');
      for (let i = 0; i < 3; i++) journal.append({ ts: Date.now(), node: 'local', kind: 'notify', rule: 'r', reason: `after ${i}` });

      // The die that happened while the agent was away arrives (replayed from the engine), once.
      await eventually(() => events.some((e) => e.id === diedId && e.action === 'die'), 15_000, 'the die event from the gap');
      expect(events.filter((e) => e.id === diedId && e.action === 'die').length).toBe(1);
      expect(events.find((e) => e.id === diedId && e.action === 'die')).toMatchObject({ exitCode: 7, node: 'gw-2' });

      // Every journal entry since following began, in order, each once, named for the fleet's node.
      await eventually(() => entries.some((e) => e.reason === 'after 2'), 15_000, 'journal entries after the restart');
      const seqs = entries.map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => firstSeq + i));
      expect(entries.map((e) => e.reason).filter((r) => r !== 'probe')).toEqual(['before 0', 'before 1', 'before 2', 'while away 0', 'while away 1', 'while away 2', 'after 0', 'after 1', 'after 2']);
      expect(entries.every((e) => e.node === 'gw-2')).toBe(true);

      // The log view: lines from before, through and after the outage, consecutive, none twice.
      const upTo = Math.max(...ticks()) + 40;
      await eventually(() => Math.max(...ticks()) > upTo, 20_000, 'ticks after the restart');
      const seen = ticks();
      const start = seen[0] as number;
      expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => start + i));
      // The outage is marked in the view (a meta line), not hidden.
      expect(all().some((e) => e.stream === 'meta')).toBe(true);
    } finally {
      journal.close();
      offJournal();
      offEvents();
      session.close();
      await peer.close();
    }
  });
});
