/**
 * The few Reflect metadata calls that @peculiar/x509's dependency injection
 * (tsyringe) makes, on a WeakMap: instead of the reflect-metadata package
 * (one dependency less in the single executable). Installed only where
 * there is no such API already.
 */
type Key = unknown;
const store = new WeakMap<object, Map<string | symbol | undefined, Map<Key, unknown>>>();

function table(target: object, prop: string | symbol | undefined, create: boolean): Map<Key, unknown> | undefined {
  let byProp = store.get(target);
  if (!byProp && create) store.set(target, (byProp = new Map()));
  let t = byProp?.get(prop);
  if (!t && create && byProp) byProp.set(prop, (t = new Map()));
  return t;
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  R.defineMetadata = (key: Key, value: unknown, target: object, prop?: string | symbol) => {
    table(target, prop, true)?.set(key, value);
  };
  R.getOwnMetadata = (key: Key, target: object, prop?: string | symbol) => table(target, prop, false)?.get(key);
  R.hasOwnMetadata = (key: Key, target: object, prop?: string | symbol) => table(target, prop, false)?.has(key) ?? false;
  R.getMetadata = (key: Key, target: object, prop?: string | symbol): unknown => {
    for (let o: object | null = target; o; o = Object.getPrototypeOf(o) as object | null) {
      const t = table(o, prop, false);
      if (t?.has(key)) return t.get(key);
    }
    return undefined;
  };
  R.hasMetadata = (key: Key, target: object, prop?: string | symbol) => (R.getMetadata as (k: Key, t: object, p?: string | symbol) => unknown)(key, target, prop) !== undefined;
  R.metadata = (key: Key, value: unknown) => (target: object, prop?: string | symbol) => (R.defineMetadata as (k: Key, v: unknown, t: object, p?: string | symbol) => void)(key, value, target, prop);
}
export {};
