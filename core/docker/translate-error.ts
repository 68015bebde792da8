import {
  ApiVersionError,
  EngineError,
  EngineHostKeyError,
  EnginePermissionError,
  EngineTlsError,
  EngineUnreachableError,
  NameConflictError,
  NoSuchContainerError,
  NotAnEngineError,
  OutpostError,
} from '../model/errors.js';
import { hostKeyRefusal } from './known-hosts.js';

interface DockerodeLikeError {
  code?: string;
  statusCode?: number;
  reason?: string;
  message?: string;
  json?: { message?: string } | null;
}

const unreachableCodes = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ETIMEDOUT', 'ENOTFOUND']);

/**
 * Turns whatever dockerode or the socket threw into a named Outpost error
 * whose message says what to do. `ref` is the container the call was about.
 */
export function translateEngineError(err: unknown, endpoint: string, ref?: string): OutpostError {
  if (err instanceof OutpostError) return err;
  const e = (err ?? {}) as DockerodeLikeError;
  if (e.code === 'EACCES' || e.code === 'EPERM') return new EnginePermissionError(endpoint);
  if (e.code && unreachableCodes.has(e.code)) return new EngineUnreachableError(endpoint, e.code);
  if (/host denied|verification failed/i.test(e.message ?? '')) {
    // ssh2 refused the host key through our verifier: say why (unknown, changed or revoked).
    const m = /^ssh:\/\/(?:[^@/]+@)?(\[[^\]]+\]|[^:/]+):(\d+)/.exec(endpoint);
    return new EngineHostKeyError(endpoint, (m ? hostKeyRefusal(m[1]?.replace(/^\[|\]$/g, '') ?? '', Number(m[2])) : null) ?? 'its host key was refused');
  }
  const tls = tlsSide(e.code, e.message);
  if (tls) return new EngineTlsError(endpoint, e.message ?? e.code ?? 'TLS error', tls);
  // Node's HTTP parser refused the answer: whatever is there does not speak HTTP.
  if (e.code?.startsWith('HPE_')) return new NotAnEngineError(endpoint, `its answer is not HTTP (${e.code})`);
  const engineMessage = engineText(e);
  if (e.statusCode === 404 && /no such container/i.test(engineMessage)) {
    return new NoSuchContainerError(ref ?? extractRef(engineMessage));
  }
  if (e.statusCode === 409 && /already in use/i.test(engineMessage)) {
    const m = /name "\/?([^"]+)"/.exec(engineMessage);
    return new NameConflictError(m?.[1] ?? ref ?? '?', engineMessage);
  }
  if (e.statusCode === 400 && /(client version|API version|too old|too new)/i.test(engineMessage)) {
    return new ApiVersionError('?', engineMessage);
  }
  // A Docker engine says why it refuses; an HTTP server that is not one (a proxy, a web server) does not.
  if (e.statusCode === 404 && !e.json?.message) return new NotAnEngineError(endpoint, 'it answered HTTP 404 with no Docker message');
  if (typeof e.statusCode === 'number') {
    if (engineMessage === '') return new EngineError(`The engine refused with HTTP ${e.statusCode} and no message.`, e.statusCode);
    return new EngineError(`The engine refused: ${engineMessage} (HTTP ${e.statusCode}).`, e.statusCode);
  }
  return new EngineError(`Docker engine call failed: ${engineMessage}`);
}

/** Which side of a TLS handshake failed, from Node's error code (or message), if it was TLS at all. */
function tlsSide(code: string | undefined, message: string | undefined): 'client' | 'server' | null {
  const c = code ?? '';
  if (/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID)$/.test(c)) return 'server';
  if (/^ERR_SSL_/.test(c) || /alert (bad|unknown|certificate)|certificate required/i.test(message ?? '')) return 'client';
  return null;
}

function engineText(e: DockerodeLikeError): string {
  const fromJson = e.json && typeof e.json === 'object' ? e.json.message : undefined;
  const text = fromJson ?? e.reason ?? e.message ?? String(e);
  // dockerode prefixes "(HTTP code 404) no such container - " before the engine's words.
  return text.replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, '').trim();
}

function extractRef(message: string): string {
  const m = /no such container:\s*(\S+)/i.exec(message);
  return m?.[1] ?? '?';
}
