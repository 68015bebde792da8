import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { FleetState, RulesCheck, Settings } from '../shared/ipc.js';
import { call } from './api.js';
import './styles.css';

function SettingsPage() {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [rules, setRules] = useState<RulesCheck | null>(null);
  const [fleet, setFleet] = useState<FleetState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const check = () => call('rules:check', {}).then(setRules, (e: Error) => setError(e.message));
  useEffect(() => {
    call('settings:get', {}).then(setSettings, (e: Error) => setError(e.message));
    call('fleet:get', {}).then(setFleet, () => undefined);
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
      <section>
        <h2>Nodes</h2>
        <p className="muted">Peers can be added once the agent serves its peer API; until then the tray looks after this machine.</p>
        <ul>
          {fleet?.nodes.map((n) => (
            <li key={n.name}>
              {n.name} — {n.status.state}
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <SettingsPage />
  </StrictMode>,
);
