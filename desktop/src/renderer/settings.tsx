import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { PeerPreview, PeerRow, RulesCheck, Settings } from '../shared/ipc.js';
import { call, on } from './api.js';
import './styles.css';

function SettingsPage() {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [rules, setRules] = useState<RulesCheck | null>(null);
  const [error, setError] = useState<string | null>(null);
  const check = () => call('rules:check', {}).then(setRules, (e: Error) => setError(e.message));
  useEffect(() => {
    call('settings:get', {}).then(setSettings, (e: Error) => setError(e.message));
    void check();
  }, []);
  const change = (patch: Partial<Settings>) => call('settings:set', patch).then(setSettings, (e: Error) => setError(e.message));
  return (
    <main className="settings">
      <h1>Settings</h1>
      {error ? <p className="bad">{error}</p> : null}
      <section>
        <h2>Rules</h2>
        <p>
          File: <code>{rules?.file ?? '…'}</code>{' '}
          <button type="button" onClick={() => void check()}>
            Check again
          </button>
        </p>
        {rules?.missing ? <p className="muted">No rules file: only rules from container labels apply.</p> : null}
        {rules && !rules.missing && rules.problems.length === 0 ? <p className="ok">Valid: {rules.rules.length} rule(s) ({rules.rules.join(', ')}).</p> : null}
        {rules && rules.problems.length > 0 ? (
          <ul className="problems">
            {rules.problems.map((p) => (
              <li key={p} className="bad">
                {p}
              </li>
            ))}
          </ul>
        ) : null}
      </section>
      <section>
        <h2>Desktop</h2>
        <label>
          <input type="checkbox" checked={settings?.notifications ?? false} disabled={!settings} onChange={(e) => void change({ notifications: e.target.checked })} /> Notify me when a rule acts or gives up, or a node becomes unreachable
        </label>
        <label>
          <input type="checkbox" checked={settings?.startAtLogin ?? false} disabled={!settings} onChange={(e) => void change({ startAtLogin: e.target.checked })} /> Start at login
        </label>
      </section>
      <Peers />
    </main>
  );
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The peers: the list with rename and remove, and adding one from a join code (the fingerprint shown and confirmed first). */
function Peers() {
  const [peers, setPeers] = useState<PeerRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [target, setTarget] = useState('');
  const [name, setName] = useState('');
  const [token, setToken] = useState('');
  const [preview, setPreview] = useState<PeerPreview | null>(null);
  const [busy, setBusy] = useState(false);
  const [renaming, setRenaming] = useState<{ from: string; to: string } | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const load = () => call('peers:list', {}).then(setPeers, (e: unknown) => setError(message(e)));
  useEffect(() => {
    void load();
    // A peer's state changes (and peers added elsewhere) arrive with the fleet.
    return on('fleet:changed', () => void load());
  }, []);
  const isJoinCode = target.trim().length > 0 && !target.includes('://');
  const args = () => ({ target: target.trim(), ...(name.trim() ? { name: name.trim() } : {}), ...(token.trim() && !isJoinCode ? { token: token.trim() } : {}) });
  const run = async (what: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await what();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  const check = () => run(async () => setPreview(await call('peers:preview', args())));
  const add = () =>
    run(async () => {
      const r = await call('peers:add', { ...args(), ...(preview?.fingerprint ? { fingerprint: preview.fingerprint } : {}) });
      setDone(r.warning ? `Added ${r.name}. ${r.warning}` : `Added ${r.name}.`);
      setPreview(null);
      setTarget('');
      setName('');
      setToken('');
      await load();
    });
  const rename = (from: string, to: string) =>
    run(async () => {
      await call('peers:rename', { from, to });
      setRenaming(null);
      setDone(`Renamed ${from} to ${to}.`);
      await load();
    });
  const remove = (n: string) =>
    run(async () => {
      await call('peers:remove', { name: n });
      setRemoving(null);
      setDone(`Removed ${n}.`);
      await load();
    });
  return (
    <section className="peers">
      <h2>Peers</h2>
      {peers && peers.length === 0 ? <p className="muted">No peers yet: the tray looks after this machine. Add a box below with the join code its `outpost agent --listen` printed.</p> : null}
      {peers && peers.length > 0 ? (
        <table className="peer-list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Address</th>
              <th>Fingerprint</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {peers.map((p) => (
              <tr key={p.name}>
                <td className="name">
                  {renaming?.from === p.name ? (
                    <form
                      onSubmit={(e) => {
                        e.preventDefault();
                        void rename(p.name, renaming.to.trim());
                      }}
                    >
                      <input aria-label={`New name for ${p.name}`} value={renaming.to} onChange={(e) => setRenaming({ from: p.name, to: e.target.value })} autoFocus />
                      <button type="submit" disabled={busy || !renaming.to.trim()}>
                        Save
                      </button>
                      <button type="button" onClick={() => setRenaming(null)}>
                        Cancel
                      </button>
                    </form>
                  ) : (
                    p.name
                  )}
                </td>
                <td>{p.kind}</td>
                <td className="url">{p.url}</td>
                <td className="fp" title={p.fingerprint ?? ''}>
                  {p.fingerprint ? `${p.fingerprint.slice(0, 23)}…` : '—'}
                </td>
                <td className={p.status?.state === 'online' ? 'ok' : p.status ? 'bad' : 'muted'} title={p.status?.state === 'offline' ? p.status.reason : ''}>
                  {p.status ? (p.status.state === 'offline' ? 'unreachable' : p.status.state) : '—'}
                </td>
                <td className="actions">
                  {removing === p.name ? (
                    <>
                      <span>Remove {p.name}? </span>
                      <button type="button" className="danger" disabled={busy} onClick={() => void remove(p.name)}>
                        Remove
                      </button>
                      <button type="button" onClick={() => setRemoving(null)}>
                        Keep
                      </button>
                    </>
                  ) : (
                    <>
                      <button type="button" disabled={busy} onClick={() => setRenaming({ from: p.name, to: p.name })}>
                        Rename
                      </button>
                      <button type="button" disabled={busy} onClick={() => setRemoving(p.name)}>
                        Remove…
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <form
        className="add-peer"
        onSubmit={(e) => {
          e.preventDefault();
          void (preview ? add() : check());
        }}
      >
        <h3>Add a peer</h3>
        <label>
          Join code or URL
          <textarea
            aria-label="Join code or URL"
            rows={2}
            value={target}
            placeholder="the line `outpost agent --listen` printed, or https://host:7443, ssh://user@host"
            onChange={(e) => {
              setTarget(e.target.value);
              setPreview(null);
            }}
          />
        </label>
        <label>
          Name <input aria-label="Name" value={name} placeholder="from the address" onChange={(e) => setName(e.target.value)} />
        </label>
        {!isJoinCode && target.startsWith('https://') ? (
          <label>
            Token <input aria-label="Token" type="password" value={token} onChange={(e) => setToken(e.target.value)} />
          </label>
        ) : null}
        {preview ? (
          <div className="confirm">
            <p>
              {preview.kind === 'agent' ? 'Agent' : 'Engine'} <b>{preview.name}</b> at <code>{preview.url}</code>
            </p>
            {preview.fingerprint ? (
              <>
                <p>Certificate fingerprint (SHA-256){preview.fingerprintFrom === 'agent' ? ', as the agent presents it now' : ', from the join code'}:</p>
                <code className="fingerprint">{preview.fingerprint}</code>
                <p className={preview.fingerprintFrom === 'agent' ? 'warn' : 'muted'}>
                  {preview.fingerprintFrom === 'agent'
                    ? 'Compare it with the one `outpost agent` printed on that box before you pin it: anyone on the way could present another.'
                    : 'It is checked against the agent before the peer is added.'}
                </p>
              </>
            ) : (
              <p className="muted">An engine peer: ssh checks the host key against known_hosts; no host figures or rules.</p>
            )}
            <button type="submit" disabled={busy}>
              {preview.fingerprint ? 'Pin and add' : 'Add'}
            </button>{' '}
            <button type="button" onClick={() => setPreview(null)}>
              Cancel
            </button>
          </div>
        ) : (
          <button type="submit" disabled={busy || !target.trim()}>
            Check
          </button>
        )}
      </form>
      {busy ? <p className="muted">Working…</p> : null}
      {error ? (
        <p className="bad" role="alert">
          {error}
        </p>
      ) : null}
      {done ? <p className="ok">{done}</p> : null}
    </section>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <SettingsPage />
  </StrictMode>,
);
