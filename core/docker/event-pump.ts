import type { Readable } from 'node:stream';
import type { ContainerEvent } from '../model/types.js';

/** The raw event document the engine streams. */
export interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

/** Actions that do not change a container's state and need no refresh. */
const quietActions = /^(exec_|attach|resize|top|archive-path|extract-to-dir|copy|export|commit)/;

export function isStateChange(action: string): boolean {
  return !quietActions.test(action);
}

export function toContainerEvent(raw: RawEvent, node: string): ContainerEvent | null {
  if (raw.Type !== undefined && raw.Type !== 'container') return null;
  const id = raw.Actor?.ID ?? raw.id;
  const action = raw.Action ?? raw.status;
  if (!id || !action) return null;
  const attributes = raw.Actor?.Attributes ?? {};
  const exit = attributes.exitCode;
  const event: ContainerEvent = {
    node,
    id,
    name: attributes.name ?? '',
    image: attributes.image ?? '',
    action,
    timeNano: raw.timeNano ?? (raw.time ?? 0) * 1e9,
    attributes,
  };
  if (exit !== undefined && /^-?\d+$/.test(exit)) event.exitCode = Number(exit);
  return event;
}

/**
 * Reads newline-delimited JSON events from a stream. Malformed lines are
 * skipped (reported once through `onBadLine`), never fatal; a line longer
 * than 1 MiB is dropped so a broken peer cannot grow the buffer forever.
 */
export function readEvents(
  stream: Readable,
  onEvent: (raw: RawEvent) => void,
  onBadLine: (line: string) => void = () => {},
): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line.length > 0) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          onBadLine(line.slice(0, 200));
          parsed = null;
        }
        if (parsed && typeof parsed === 'object') onEvent(parsed as RawEvent);
      }
      nl = pending.indexOf('\n');
    }
    if (pending.length > 1024 * 1024) {
      onBadLine(pending.slice(0, 200));
      pending = '';
    }
  });
}

/** "seconds.nanoseconds", the form the engine's `since` takes. */
export function sinceParam(timeNano: number): string {
  const secs = Math.floor(timeNano / 1e9);
  const nanos = Math.max(0, Math.round(timeNano - secs * 1e9));
  return `${secs}.${String(nanos).padStart(9, '0')}`;
}
