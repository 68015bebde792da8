/**
 * The tray's settings, stored with conf under the same project as the TUI
 * (`$XDG_CONFIG_HOME/outpost/desktop.json`): one writer per store, this app.
 */
import type { Settings } from '../shared/ipc.js';
import type { SettingsStore } from './controller.js';

export const DEFAULT_SETTINGS: Settings = { notifications: true, startAtLogin: false };

/** Keeps only known keys of the right type; anything else in the file falls back to the default. */
export function cleanSettings(raw: unknown): Settings {
  const r = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    notifications: typeof r.notifications === 'boolean' ? r.notifications : DEFAULT_SETTINGS.notifications,
    startAtLogin: typeof r.startAtLogin === 'boolean' ? r.startAtLogin : DEFAULT_SETTINGS.startAtLogin,
  };
}

export async function confSettings(cwd?: string): Promise<SettingsStore> {
  const { default: Conf } = await import('conf');
  const store = new Conf<Record<string, unknown>>({
    projectName: 'outpost',
    projectSuffix: '',
    configName: 'desktop',
    // A byte order mark (editors on Windows write one) made conf throw, and the tray did not start.
    deserialize: (text: string) => JSON.parse(text.replace(/^\uFEFF/, '')) as Record<string, unknown>,
    ...(cwd ? { cwd } : {}),
  });
  let current = cleanSettings(store.store);
  return {
    get: () => current,
    set: (patch) => {
      current = cleanSettings({ ...current, ...patch });
      store.set(current as unknown as Record<string, unknown>);
      return current;
    },
  };
}
