import { StrictMode, useEffect, useMemo, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { ContainerSummary, HostMetrics, LogLine } from '../../../core/model/types.js';
import type { JournalEntry } from '../../../core/agent/journal.js';
import type { ContainerAction, FleetState } from '../shared/ipc.js';
import { placedCopies } from '../../../core/placement/copies.js';
import { call, on } from './api.js';
import { Chart } from './chart.js';
import { compileQuery, Highlight } from './highlight.js';
import './styles.css';

const MAX_LOG_LINES = 2000;

function stateText(c: ContainerSummary): string {
  if (c.state === 'running') return c.health === 'none' ? 'running' : `running (${c.health})`;
  if (c.state === 'exited') return `exited (${c.exitCode ?? '?'})`;
  return c.state;
}

function stateClass(c: ContainerSummary): string {
  if (c.state === 'running') return c.health === 'unhealthy' ? 'bad' : 'ok';
  if (c.state === 'exited' && c.exitCode === 0) return 'muted';
  if (c.state === 'restarting' || c.state === 'paused') return 'warn';
  return c.state === 'created' ? 'muted' : 'bad';
}

function Containers(props: {
  node: string;
  containers: ContainerSummary[];
  selected: string | null;
  busy: Record<string, string>;
  onSelect: (name: string) => void;
  onAction: (c: ContainerSummary, a: ContainerAction) => void;
}) {
  const sorted = [...props.containers].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <table className="containers">
      <thead>
        <tr>
          <th>Name</th>
          <th>State</th>
          <th>Image</th>
          <th>Restarts</th>
          <th aria-label="actions" />
        </tr>
      </thead>
      <tbody>
        {sorted.map((c) => {
          const running = c.state === 'running' || c.state === 'restarting';
          return (
            <tr key={c.id} className={c.name === props.selected ? 'selected' : undefined} data-name={c.name} onClick={() => props.onSelect(c.name)}>
              <td className="name">{c.name}</td>
              <td className={stateClass(c)}>{props.busy[c.id] ?? stateText(c)}</td>
              <td className="muted">{c.image}</td>
              <td>{c.restartCount ?? '…'}</td>
              <td className="actions" onClick={(e) => e.stopPropagation()}>
                <button type="button" disabled={running || !!props.busy[c.id]} onClick={() => props.onAction(c, 'start')}>
                  Start
                </button>
                <button type="button" disabled={!running || !!props.busy[c.id]} onClick={() => props.onAction(c, 'stop')}>
                  Stop
                </button>
                <button type="button" disabled={!!props.busy[c.id]} onClick={() => props.onAction(c, 'restart')}>
                  Restart
                </button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Logs({ node, container }: { node: string; container: ContainerSummary | null }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [query, setQuery] = useState('');
  const [ended, setEnded] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const re = useMemo(() => compileQuery(query), [query]);
  // The stream is reopened when the container changes or starts again, not on every list refresh.
  const id = container?.id;
  const running = container?.state === 'running';
  useEffect(() => {
    setLines([]);
    setEnded(null);
    if (!id) return;
    let stream: string | null = null;
    let live = true;
    const offLines = on('logs:lines', (p) => {
      if (p.stream !== stream) return;
      setLines((old) => {
        const next = old.concat(p.lines);
        return next.length > MAX_LOG_LINES ? next.slice(next.length - MAX_LOG_LINES) : next;
      });
    });
    const offEnd = on('logs:ended', (p) => p.stream === stream && setEnded(p.reason));
    call('logs:open', { node, id, tail: 200 }).then(
      (r) => {
        stream = r.stream;
        if (!live) void call('logs:close', { stream: r.stream });
      },
      (err: Error) => setEnded(err.message),
    );
    return () => {
      live = false;
      offLines();
      offEnd();
      if (stream) void call('logs:close', { stream });
    };
  }, [node, id, running]);
  // Follows new lines until the reader scrolls up; scrolling back to the bottom follows again.
  const follow = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [lines]);
  const onScroll = () => {
    const el = box.current;
    if (el) follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };
  const matches = re ? lines.filter((l) => (re.lastIndex = 0, re.test(l.text))).length : 0;
  return (
    <section className="logs">
      <header>
        <h2>Logs {container ? `— ${container.name}` : ''}</h2>
        <input type="search" placeholder="search (text or /regex/)" value={query} onChange={(e) => setQuery(e.target.value)} aria-label="search logs" />
        {re ? <span className="muted">{matches} matching lines</span> : null}
      </header>
      <div className="lines" ref={box} onScroll={onScroll}>
        {!container ? <p className="muted">Select a container.</p> : null}
        {lines.map((l, i) => (
          <div key={i} className={`line ${l.stream === 'stderr' ? 'stderr' : ''}`}>
            <Highlight text={l.text} re={re} />
          </div>
        ))}
        {ended ? <p className="muted">— {ended} —</p> : null}
      </div>
    </section>
  );
}

/** Placed workloads across every node (from their containers' labels); an unreachable node's copies as last seen. */
function Workloads({ fleet }: { fleet: FleetState | null }) {
  const rows = useMemo(
    () =>
      (fleet?.nodes ?? [])
        .flatMap((n) => placedCopies(n.name, n.containers).map((c) => ({ ...c, reachable: n.status.state === 'online' })))
        .sort((a, b) => a.workload.localeCompare(b.workload) || a.replica - b.replica || a.node.localeCompare(b.node)),
    [fleet],
  );
  if (rows.length === 0) return null;
  return (
    <section className="workloads">
      <h2>Placed workloads</h2>
      <table>
        <thead>
          <tr>
            <th>Workload</th>
            <th>Replica</th>
            <th>Node</th>
            <th>State</th>
            <th>Movable</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.node}/${r.containerId}`} data-workload={r.workload} className={r.reachable ? '' : 'stale'}>
              <td className="name">{r.workload}</td>
              <td>{r.replica}</td>
              <td>{r.node}</td>
              <td className={!r.reachable ? 'muted' : r.running ? 'ok' : 'bad'}>{r.reachable ? r.state : `${r.state} (node unreachable: last seen)`}</td>
              <td>{r.movable ? 'yes' : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Journal({ entries }: { entries: JournalEntry[] }) {
  return (
    <section className="journal">
      <h2>Journal</h2>
      {entries.length === 0 ? <p className="muted">No rule has acted yet.</p> : null}
      <ol>
        {entries
          .slice(-50)
          .reverse()
          .map((e) => (
            <li key={`${e.seq}-${e.ts}`} className={e.kind === 'give-up' || e.kind === 'error' || (e.kind === 'outcome' && !e.ok) ? 'bad' : e.kind === 'act' ? 'ok' : 'muted'}>
              <time>{new Date(e.ts).toLocaleTimeString()}</time> <b>{e.kind}</b> {e.reason}
            </li>
          ))}
      </ol>
    </section>
  );
}

function Dashboard() {
  const [fleet, setFleet] = useState<FleetState | null>(null);
  const [nodeName, setNodeName] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [hosts, setHosts] = useState<Record<string, HostMetrics[]>>({});
  const [journal, setJournal] = useState<JournalEntry[]>([]);
  const [busy, setBusy] = useState<Record<string, string>>({});
  /** A start or restart the node refused because failover fenced the container: the question to override. */
  const [fenced, setFenced] = useState<{ node: string; c: ContainerSummary; action: ContainerAction; reason: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    const offs = [
      on('fleet:changed', setFleet),
      on('host:sample', (h) => setHosts((old) => ({ ...old, [h.node]: [...(old[h.node] ?? []), h].slice(-720) }))),
      on('journal:entry', (e) => setJournal((old) => [...old, e].slice(-500))),
      on('navigate', (t) => {
        setNodeName(t.node);
        if (t.container) setSelected(t.container);
      }),
    ];
    call('fleet:get', {}).then(setFleet, (e: Error) => setMessage(e.message));
    call('journal:get', { limit: 200 }).then(setJournal, () => undefined);
    return () => offs.forEach((o) => o());
  }, []);

  const node = fleet?.nodes.find((n) => n.name === nodeName) ?? fleet?.nodes.find((n) => n.isThisMachine) ?? fleet?.nodes[0];
  const shown = node?.name;
  useEffect(() => {
    if (!shown) return;
    call('host:history', { node: shown }).then((h) => setHosts((old) => ({ ...old, [shown]: h })), () => undefined);
  }, [shown]);

  const container = node?.containers.find((c) => c.name === selected) ?? null;
  const act = (c: ContainerSummary, a: ContainerAction, overrideFence = false) => {
    setBusy((b) => ({ ...b, [c.id]: `${a}ing…` }));
    setFenced(null);
    const where = node!.name;
    call('container:action', { node: where, id: c.id, action: a, ...(overrideFence ? { overrideFence: true } : {}) }).then(
      () => setMessage(`${a} ${c.name}: done`),
      (e: Error & { code?: string }) => {
        // Failover fenced it: ask, naming the risk, instead of only failing.
        if (e.code === 'FENCED' && !overrideFence) {
          setMessage(null);
          setFenced({ node: where, c, action: a, reason: e.message });
        } else setMessage(`${a} ${c.name} failed: ${e.message}`);
      },
    ).finally(() => setBusy((b) => {
      const next = { ...b };
      delete next[c.id];
      return next;
    }));
  };
  const h = hosts[node?.name ?? ''] ?? [];
  const disk = (m: HostMetrics) => (m.disks.find((d) => d.mount === '/') ?? m.disks[0])?.usePercent ?? 0;

  return (
    <main>
      <header className="fleet">
        <h1>Outpost</h1>
        {fleet?.nodes.map((n) => {
          const running = n.containers.filter((c) => c.state === 'running').length;
          return (
            <button type="button" key={n.name} className={`node ${n.name === node?.name ? 'current' : ''} ${n.status.state === 'online' ? 'ok' : 'bad'}`} onClick={() => setNodeName(n.name)}>
              {n.name}: {n.status.state === 'online' ? `${running}/${n.containers.length} running` : n.status.state === 'offline' ? `unreachable (${n.status.reason})` : 'connecting'}
              {n.agentRunning === false ? ' · no rules agent' : n.rulesPaused ? ' · rules paused' : ''}
            </button>
          );
        })}
        {message ? <output className="message">{message}</output> : null}
      </header>
      {fenced && fenced.node === node?.name ? (
        <section className="confirm fenced" role="alertdialog" aria-label="fenced container">
          <p>{fenced.reason}</p>
          <p className="warn">
            {fenced.action === 'start' ? 'Start' : 'Restart'} {fenced.c.name} anyway? It may run twice if a replacement runs on another node.
          </p>
          <button type="button" onClick={() => act(fenced.c, fenced.action, true)}>
            {fenced.action === 'start' ? 'Start' : 'Restart'} anyway
          </button>{' '}
          <button type="button" onClick={() => setFenced(null)}>
            Cancel
          </button>
        </section>
      ) : null}
      <section className="charts" aria-label="host">
        <Chart title="CPU" values={h.flatMap((m) => (m.cpuPercent === null ? [] : [m.cpuPercent]))} max={100} unit="%" />
        <Chart title="Memory" values={h.map((m) => m.memUsedPercent)} max={100} unit="%" />
        <Chart title="Disk" values={h.map(disk)} max={100} unit="%" />
        <Chart
          title={h.length > 0 && h.every((m) => m.temperatureC === null) ? 'Temperature (no sensor)' : 'Temperature'}
          values={h.flatMap((m) => (m.temperatureC === null ? [] : [m.temperatureC]))}
          max={90}
          unit="°C"
        />
      </section>
      <div className="panes">
        {node ? <Containers node={node.name} containers={node.containers} selected={selected} busy={busy} onSelect={setSelected} onAction={act} /> : <p className="muted">Connecting…</p>}
        <Logs node={node?.name ?? ''} container={container} />
      </div>
      <Workloads fleet={fleet} />
      <Journal entries={journal} />
    </main>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <Dashboard />
  </StrictMode>,
);
