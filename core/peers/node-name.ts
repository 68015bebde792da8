/**
 * This machine's name in the fleet. Its peers name it in their peers files
 * and its agent answers heartbeats under the name placement.yaml gives
 * (`node: a`); every face of this machine uses the same name, so a journal,
 * `ps --all-nodes`, the TUI and a placement constraint `node in (a, b)` mean
 * one machine from wherever they are read. With no placement.yaml the node
 * is `local`. `local` stays an alias on input (`--node local`).
 *
 * Read on the start path (the first frame, the fast `ps`), so it scans the
 * file's lines instead of loading a YAML parser: the placement.yaml checker
 * (core/placement/controller.ts) refuses a `node:` that this scan would
 * read differently, so the agent and the faces cannot disagree.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readRegularFile } from '../model/read-file.js';

/** The name of this machine's node when it has no fleet name, and its alias on input everywhere. */
export const LOCAL_ALIAS = 'local';
/** A fleet name: as the peers file and placement.yaml write it. */
export const FLEET_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Larger placement.yaml files are not scanned (the checker refuses them too). */
const MAX_BYTES = 64 * 1024;

/**
 * The `node:` value of placement.yaml's text as a top-level line reads it (`node: a`,
 * `node: "a"`, `node: 'a'`, with a trailing comment), or null when there is no such line,
 * there are several, or the value is not a fleet name.
 */
export function scanNodeName(text: string): string | null {
  const text0 = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let found: string | null = null;
  let count = 0;
  for (const line of text0.split(/\r?\n/)) {
    const m = /^node[ \t]*:[ \t]*(?:"([^"\\]*)"|'([^']*)'|([^\s#'"][^\s#]*))[ \t]*(?:#.*)?$/.exec(line);
    if (!m) {
      if (/^["']?node["']?[ \t]*:/.test(line)) count++;
      continue;
    }
    count++;
    found = m[1] ?? m[2] ?? m[3] ?? null;
  }
  if (count !== 1 || found === null || !FLEET_NAME.test(found) || found === LOCAL_ALIAS) return null;
  return found;
}

/** placement.yaml's path: `$XDG_CONFIG_HOME/outpost/placement.yaml`. */
function placementPath(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'outpost', 'placement.yaml');
}

/** This machine's fleet name: placement.yaml's `node`, else `local`. Never throws. */
export function thisNodeName(env: NodeJS.ProcessEnv = process.env): string {
  // A FIFO or a device in its place is refused without blocking.
  const read = readRegularFile(placementPath(env), MAX_BYTES);
  return (read.ok ? scanNodeName(read.text) : null) ?? LOCAL_ALIAS;
}

/** Whether a name given on input means this machine: its fleet name, or the `local` alias. */
export function meansThisMachine(name: string, ownName: string): boolean {
  return name === LOCAL_ALIAS || name === ownName;
}
