/**
 * The agent API's audit log: one JSON line per mutating call (and per
 * refused one) in `audit.jsonl` (mode 0600) in the agent's state directory:
 * time, token name, action, target, outcome, client address.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { appendLineTo } from '../model/write-file.js';

export const AUDIT_FILE = 'audit.jsonl';

export interface AuditEntry {
  time: string;
  token: string | null;
  role: string | null;
  action: string;
  target: string | null;
  outcome: string;
  client: string;
}

export class AuditLog {
  readonly path: string;
  readonly #onError: (message: string) => void;

  constructor(stateDir: string, onError: (message: string) => void) {
    this.path = join(stateDir, AUDIT_FILE);
    this.#onError = onError;
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
  }

  write(entry: Omit<AuditEntry, 'time'>): void {
    try {
      // A whole line or none: a full disk must not glue half an entry to the next one.
      appendLineTo(this.path, JSON.stringify({ time: new Date().toISOString(), ...entry }));
    } catch (err) {
      this.#onError(`audit log: ${(err as Error).message}`);
    }
  }
}
