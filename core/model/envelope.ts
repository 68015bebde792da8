/**
 * The one shape in which an answer crosses a process boundary (the tray's
 * IPC, and the agent API next): `{result}` or `{error: {code, message,
 * details?}}`. A failure travels as data, never as a thrown object, and the
 * receiver gets the same named error class back (`instanceof` works).
 *
 * Pure: no Node, no Electron (the tray's renderer imports it).
 */
import { InternalError, isErrorCode, OutpostError, ProtocolError, rebuildError, type SerializedError } from './errors.js';

export type { SerializedError } from './errors.js';

export type Envelope<T> = { result: T } | { error: SerializedError };

/** Longest message kept from the other side (a hostile peer could send megabytes). */
export const MAX_MESSAGE = 4000;
/** Largest details kept, as JSON (bigger ones are replaced by a note saying so). */
export const MAX_DETAILS = 16 * 1024;

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}… (${text.length - MAX_MESSAGE} more characters cut)` : text;
}

/** Details that are a plain JSON object of bounded size, else a note saying what was dropped. */
function boundedDetails(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { dropped: 'details were not an object' };
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    return { dropped: 'details could not be written as JSON' };
  }
  if (json === undefined) return undefined;
  if (json.length > MAX_DETAILS) return { dropped: `details of ${json.length} characters` };
  // A fresh copy: nothing of the sender's object (a getter, a prototype) survives.
  return JSON.parse(json) as Record<string, unknown>;
}

/** Any thrown value as the envelope's error: a domain error keeps its code and details; anything else is INTERNAL. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof OutpostError) {
    const details = boundedDetails(err.details);
    return { code: err.code, message: clip(err.message), ...(details && Object.keys(details).length > 0 ? { details } : {}) };
  }
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : 'an unknown error';
  return { code: InternalError.code, message: clip(message) };
}

/**
 * The named error class back from its serialized form. Never throws: a
 * value that is not an error object, or has an unknown code, comes back as a
 * ProtocolError that says what was wrong (the peer's words kept, clipped).
 */
export function deserializeError(value: unknown): OutpostError {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return new ProtocolError(`malformed error from the other side (expected {code, message}, got ${describe(value)})`);
  }
  const v = value as Record<string, unknown>;
  const message = typeof v.message === 'string' ? clip(v.message) : null;
  const details = boundedDetails(v.details) ?? {};
  if (!isErrorCode(v.code)) {
    const code = typeof v.code === 'string' ? v.code.slice(0, 40) : describe(v.code);
    return new ProtocolError(`an error with an unknown code \`${code}\` from the other side: ${message ?? '(no message)'}`, { code, ...details });
  }
  return rebuildError(v.code, message ?? `${v.code} (no message)`, details);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  return typeof value;
}

export function toEnvelope<T>(result: T): Envelope<T> {
  return { result };
}

export function errorEnvelope(err: unknown): { error: SerializedError } {
  return { error: serializeError(err) };
}

/** Runs `fn` and answers an envelope; never throws. */
export async function envelopeOf<T>(fn: () => Promise<T> | T): Promise<Envelope<T>> {
  try {
    return toEnvelope(await fn());
  } catch (err) {
    return errorEnvelope(err);
  }
}

/**
 * The result of an envelope, or its error thrown as its named class. A value
 * that is no envelope at all throws a ProtocolError (never anything else).
 */
export function fromEnvelope<T>(value: unknown): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(`malformed answer from the other side (expected {result} or {error}, got ${describe(value)})`);
  }
  const v = value as Record<string, unknown>;
  if ('error' in v) throw deserializeError(v.error);
  if (!('result' in v)) throw new ProtocolError('malformed answer from the other side (neither `result` nor `error`)');
  return v.result as T;
}
