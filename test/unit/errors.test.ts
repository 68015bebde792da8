import { describe, expect, it } from 'vitest';
import { negotiateApi } from '../../core/docker/engine.js';
import { translateEngineError } from '../../core/docker/translate-error.js';
import {
  AmbiguousContainerError,
  ApiVersionError,
  EnginePermissionError,
  EngineUnreachableError,
  errorFromJSON,
  exitCodeFor,
  NameConflictError,
  NoSuchContainerError,
} from '../../core/model/errors.js';
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
});

describe('errors across the wire', () => {
  it('rebuild the same class from JSON', () => {
    const original = new NoSuchContainerError('web', 'gw-1');
    const back = errorFromJSON(JSON.parse(JSON.stringify(original)));
    expect(back).toBeInstanceOf(NoSuchContainerError);
    expect(back.message).toBe(original.message);
    expect(back.details).toEqual({ ref: 'web', node: 'gw-1' });
    expect(exitCodeFor(back)).toBe(3);
  });
  it('survive hostile or malformed payloads', () => {
    expect(errorFromJSON(null).code).toBe('ENGINE_ERROR');
    expect(errorFromJSON({ code: 'EVIL', message: 42 }).code).toBe('ENGINE_ERROR');
    expect(errorFromJSON({ code: '__proto__', message: 'x' }).message).toBe('x');
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
    try {
      resolveContainer(items, 'abc9'.slice(0, 3) + 'x');
    } catch (e) {
      expect(e).toBeInstanceOf(NoSuchContainerError);
    }
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
