import { AmbiguousContainerError, BadInputError, NoSuchContainerError } from './errors.js';

interface Named {
  id: string;
  name: string;
}

/**
 * Finds the one container a person meant, the way the docker CLI does: an
 * exact name wins, then an exact ID, then a unique ID prefix. A prefix that
 * fits several containers is an error that lists them, never a guess.
 */
export function resolveContainer<T extends Named>(items: readonly T[], ref: string, node?: string): T {
  const wanted = ref.startsWith('/') ? ref.slice(1) : ref;
  if (wanted.length === 0) throw new BadInputError('A container name or ID is required.');
  const byName = items.find((c) => c.name === wanted);
  if (byName) return byName;
  const byId = items.find((c) => c.id === wanted);
  if (byId) return byId;
  if (/^[0-9a-f]+$/i.test(wanted)) {
    const lower = wanted.toLowerCase();
    const matches = items.filter((c) => c.id.startsWith(lower));
    if (matches.length === 1) return matches[0] as T;
    if (matches.length > 1) throw new AmbiguousContainerError(wanted, matches);
  }
  throw new NoSuchContainerError(wanted, node);
}
