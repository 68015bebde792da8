import { describe, expect, it } from 'vitest';
import { negotiateApi } from '../../core/docker/engine.js';
import { translateEngineError } from '../../core/docker/translate-error.js';
import {
  AmbiguousContainerError,
  ApiVersionError,
  EnginePermissionError,
  EngineUnreachableError,
  BadInputError,
  ERROR_CLASSES,
  EngineTimeoutError,
  exitCodeFor,
  ForbiddenError,
  httpStatusFor,
  InternalError,
  NameConflictError,
  NoSuchContainerError,
  NotAllowedError,
  OutpostError,
  PeerTimeoutError,
  PeerUnreachableError,
  ProtocolError,
  UnauthorisedError,
} from '../../core/model/errors.js';
import { deserializeError, envelopeOf, fromEnvelope, MAX_MESSAGE, serializeError, toEnvelope } from '../../core/model/envelope.js';
import { resolveContainer } from '../../core/model/resolve.js';

describe('translateEngineError', () => {
  const ep = 'unix:///x.sock';
  it('names an engine that is not running', () => {
    const e = translateEngineError(Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }), ep);
    expect(e).toBeInstanceOf(EngineUnreachableError);
    expect(e.message).toMatch(/Is it running\?/);
  });
  it('explains the docker group on EACCES', () => {
    const e = translateEngineError({ code: 'EACCES' }, ep);
    expect(e).toBeInstanceOf(EnginePermissionError);
    expect(e.message).toMatch(/docker group/);
  });
  it('maps 404 no such container and 409 name conflicts', () => {
    expect(translateEngineError({ statusCode: 404, json: { message: 'No such container: abc' } }, ep, 'web')).toBeInstanceOf(NoSuchContainerError);
    const c = translateEngineError({ statusCode: 409, json: { message: 'Conflict. The container name "/web" is already in use by container "123".' } }, ep);
    expect(c).toBeInstanceOf(NameConflictError);
    expect(c.details.name).toBe('web');
  });
  it('maps the engine refusing an old API version', () => {
    const e = translateEngineError({ statusCode: 400, json: { message: 'client version 1.41 is too old. Minimum supported API version is 1.44' } }, ep);
    expect(e).toBeInstanceOf(ApiVersionError);
  });
});

describe('negotiateApi', () => {
  it('speaks the engine version when Outpost knows it', () => {
    expect(negotiateApi('1.41', '1.12')).toBe('1.41');
  });
  it('caps at the newest known version, but never below the engine minimum', () => {
    expect(negotiateApi('1.52', '1.24')).toBe('1.48');
    expect(negotiateApi('1.60', '1.50')).toBe('1.50');
  });
  it('refuses engines older than API 1.25 and nonsense', () => {
    expect(() => negotiateApi('1.24', '1.12')).toThrow(ApiVersionError);
    expect(() => negotiateApi('', undefined)).toThrow(/no usable API version/);
  });
  it('names the engine, and says plainly when it gave no version at all', () => {
    expect(() => negotiateApi('', undefined, 'unix:///tmp/x.sock')).toThrow(/^The Docker engine at unix:\/\/\/tmp\/x\.sock did not say which API it speaks/);
    expect(() => negotiateApi('1.20', undefined, 'unix:///tmp/x.sock')).toThrow(/^The Docker engine at unix:\/\/\/tmp\/x\.sock speaks API 1\.20, which Outpost cannot use/);
  });
});

describe('errors across the wire', () => {
  const roundTrip = (err: unknown) => deserializeError(JSON.parse(JSON.stringify(serializeError(err))));

  it('rebuild the same class from JSON', () => {
    const original = new NoSuchContainerError('web', 'gw-1');
    const back = roundTrip(original);
    expect(back).toBeInstanceOf(NoSuchContainerError);
    expect(back).toBeInstanceOf(OutpostError);
    expect(back.name).toBe('NoSuchContainerError');
    expect(back.message).toBe(original.message);
    expect(back.details).toEqual({ ref: 'web', node: 'gw-1' });
    expect(exitCodeFor(back)).toBe(3);
  });

  it('one table gives every class a distinct code, an exit status and an HTTP status', () => {
    const codes = ERROR_CLASSES.map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const cls of ERROR_CLASSES) {
      const back = deserializeError({ code: cls.code, message: 'm', details: { a: 1 } });
      expect(back).toBeInstanceOf(cls);
      expect(back.code).toBe(cls.code);
      expect(back.details).toEqual({ a: 1 });
      expect(exitCodeFor(back)).toBe(cls.exit);
      expect(httpStatusFor(back)).toBe(cls.http);
    }
    expect(exitCodeFor(new BadInputError('x'))).toBe(2);
    expect(exitCodeFor(new NotAllowedError('x'))).toBe(5);
    expect(exitCodeFor(new EngineTimeoutError('e', 'GET /x', 1000))).toBe(4);
    expect(exitCodeFor(new Error('plain'))).toBe(1);
  });

  it('has the network layer\'s errors', () => {
    expect(httpStatusFor(new UnauthorisedError('https://gw-2:7443'))).toBe(401);
    expect(httpStatusFor(new ForbiddenError('https://gw-2:7443', 'restart', 'viewer'))).toBe(403);
    expect(roundTrip(new PeerUnreachableError('https://gw-2:7443', 'ECONNREFUSED'))).toBeInstanceOf(PeerUnreachableError);
    expect(roundTrip(new PeerTimeoutError('https://gw-2:7443', 'GET /containers', 5000)).message).toMatch(/within 5 s/);
    expect(roundTrip(new ProtocolError('not JSON'))).toBeInstanceOf(ProtocolError);
  });

  it('envelopes carry a result or the named error, and anything else thrown becomes INTERNAL', async () => {
    expect(fromEnvelope(JSON.parse(JSON.stringify(toEnvelope({ a: [1] }))))).toEqual({ a: [1] });
    expect(await envelopeOf(() => 5)).toEqual({ result: 5 });
    const bad = await envelopeOf(() => {
      throw new BadInputError('limit must be a whole number', { field: 'limit' });
    });
    expect(bad).toEqual({ error: { code: 'BAD_INPUT', message: 'limit must be a whole number', details: { field: 'limit' } } });
    expect(() => fromEnvelope(bad)).toThrow(BadInputError);
    const plain = await envelopeOf(() => {
      throw new TypeError('x is undefined');
    });
    expect(plain).toEqual({ error: { code: 'INTERNAL', message: 'x is undefined' } });
    expect(() => fromEnvelope(plain)).toThrow(InternalError);
  });

  it('survive hostile or malformed payloads with a clear ProtocolError, never something else', () => {
    for (const v of [null, undefined, 42, 'boom', [], [1, 2]]) {
      const e = deserializeError(v);
      expect(e).toBeInstanceOf(ProtocolError);
      expect(e.message).toMatch(/malformed error/);
      expect(() => fromEnvelope(v)).toThrow(ProtocolError);
    }
    expect(() => fromEnvelope({})).toThrow(/neither `result` nor `error`/);
    const evil = deserializeError({ code: 'EVIL', message: 'rm -rf' });
    expect(evil).toBeInstanceOf(ProtocolError);
    expect(evil.message).toMatch(/unknown code `EVIL`.*rm -rf/);
    expect(deserializeError({ code: '__proto__', message: 'x' })).toBeInstanceOf(ProtocolError);
    expect(deserializeError({ code: 'toString', message: 'x' })).toBeInstanceOf(ProtocolError);
    expect(deserializeError({ code: 'BAD_INPUT', message: 42 }).message).toBe('BAD_INPUT (no message)');
    expect(deserializeError({ code: 'BAD_INPUT', message: 'm', details: 'nope' }).details).toEqual({ dropped: 'details were not an object' });
    // A prototype in the details is data, not a prototype.
    const proto = deserializeError(JSON.parse('{"code":"BAD_INPUT","message":"m","details":{"__proto__":{"polluted":true}}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(proto).toBeInstanceOf(BadInputError);
    // A huge message is clipped; huge details are dropped with a note.
    const huge = deserializeError({ code: 'ENGINE_ERROR', message: 'x'.repeat(5_000_000), details: { blob: 'y'.repeat(1_000_000) } });
    expect(huge.message.length).toBeLessThan(MAX_MESSAGE + 100);
    expect(huge.message).toMatch(/more characters cut/);
    expect(huge.details).toEqual({ dropped: expect.stringMatching(/details of \d+ characters/) });
    // Details that cannot be JSON (a cycle) on the sending side.
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(serializeError(new BadInputError('m', cyclic))).toEqual({ code: 'BAD_INPUT', message: 'm', details: { dropped: 'details could not be written as JSON' } });
  });
});

describe('resolveContainer', () => {
  const items = [
    { id: 'abc123def', name: 'web' },
    { id: 'abc999aaa', name: 'db' },
    { id: 'fff000111', name: 'abc' },
  ];
  it('prefers an exact name, then an exact ID, then a unique prefix', () => {
    expect(resolveContainer(items, 'abc').name).toBe('abc');
    expect(resolveContainer(items, '/db').name).toBe('db');
    expect(resolveContainer(items, 'abc1').name).toBe('web');
    expect(resolveContainer(items, 'FFF').name).toBe('abc');
  });
  it('lists the candidates of an ambiguous prefix', () => {
    expect(() => resolveContainer(items, 'abcx')).toThrow(NoSuchContainerError);
    const e = (() => {
      try {
        resolveContainer([items[0]!, items[1]!], 'ab');
      } catch (err) {
        return err as AmbiguousContainerError;
      }
      throw new Error('expected an error');
    })();
    expect(e).toBeInstanceOf(AmbiguousContainerError);
    expect(e.message).toContain('web (abc123def)');
    expect(e.message).toContain('db (abc999aaa)');
  });
  it('rejects empty and unknown references', () => {
    expect(() => resolveContainer(items, '')).toThrow(/required/);
    expect(() => resolveContainer(items, 'nope')).toThrow(NoSuchContainerError);
    expect(() => resolveContainer(items, '../../etc')).toThrow(NoSuchContainerError);
  });
});
