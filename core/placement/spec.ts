/**
 * The workload spec: what `outpost place` reads (YAML; JSON is YAML too),
 * checked with the same precision as the rules file: every problem names
 * file:line:col, the field path, what was expected and what was found. The
 * constraints and preferences are compiled here, once, so the engine never
 * parses text while it decides.
 */
import { isNode, isMap as isYamlMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { checkKeys, describe, editDistance, FieldError, intAt, isMap, parseSize, type Path } from '../rules/fields.js';
import type { RuleIssue } from '../rules/types.js';

export { formatIssue } from '../rules/fields.js';

/** A problem in a workload spec: same shape as a rules file's, so `formatIssue` prints it. */
export type SpecIssue = RuleIssue;

/** Workload files larger than this are refused before parsing. */
export const MAX_WORKLOAD_FILE_BYTES = 1024 * 1024;
/** Bounds on lists, so a hostile file cannot make the engine's work unbounded. */
export const MAX_LIST = 1000;
export const MAX_CONSTRAINTS = 100;
export const MAX_REPLICAS = 100;
const MAX_CPU_CORES = 4096;
const MAX_MEMORY_BYTES = 1024 ** 5; // 1 PiB

export type Op = '==' | '!=' | 'in' | 'not in';
export type Attribute = 'arch' | 'os' | 'hostname' | 'node' | 'label';

/** A compiled constraint (or preference expression). */
export type Constraint =
  | {
      kind: 'attr';
      attr: Attribute;
      /** The label key, for `label.KEY`. */
      key: string;
      /** How it is named in texts: `arch`, `label.zone`. */
      field: string;
      op: Op;
      /** Normalised (arch aliases folded; arch, os and hostname lower-cased). */
      values: string[];
      /** Canonical text: `label.zone == line-2`. */
      text: string;
      /** The text of a node that fails it, as the summary counts it: `label.zone != line-2`. */
      negated: string;
    }
  | { kind: 'device'; path: string; text: string; negated: string }
  | { kind: 'image-present'; text: string; negated: string };

export interface Preference {
  constraint: Constraint;
  /** 1..100: points on the same scale as the resource score (see docs/placement.md). */
  weight: number;
}

export interface Spread {
  /** `node`, `hostname`, `arch`, `os` or `label.KEY`. */
  key: string;
  /** The label key when `key` is `label.KEY`. */
  label: string | null;
  maxSkew: number;
}

export interface PortMapping {
  container: number;
  /** null: Docker picks a free host port. */
  host: number | null;
  protocol: 'tcp' | 'udp' | 'sctp';
  ip: string | null;
}

export interface VolumeMount {
  /** An absolute host path or a named volume; null for an anonymous volume. */
  source: string | null;
  target: string;
  readOnly: boolean;
}

export interface DeviceMapping {
  host: string;
  container: string;
  permissions: string;
}

export interface RestartPolicy {
  name: 'no' | 'on-failure' | 'always' | 'unless-stopped';
  /** For on-failure:N. */
  maxRetries: number | null;
}

export interface Workload {
  name: string;
  image: string;
  /** The references the image can have in a node's image list (nginx → nginx:latest, docker.io/library/nginx:latest…). */
  imageRefs: string[];
  /** A string in the file becomes ["sh", "-c", string]; null: the image's own command. */
  command: string[] | null;
  env: Record<string, string>;
  ports: PortMapping[];
  volumes: VolumeMount[];
  devices: DeviceMapping[];
  /**
   * As written. The caller creates a movable workload's containers with
   * restart policy "no" when fencing must hold (a node cut off stops its
   * singletons; the engine must not bring them back behind its back).
   */
  restart: RestartPolicy;
  labels: Record<string, string>;
  /** Requests: cores and bytes; 0 when not given. */
  resources: { cpu: number; memoryBytes: number };
  /** As written, then one `device PATH` per device mapping not already constrained. */
  constraints: Constraint[];
  preferences: Preference[];
  spread: Spread | null;
  strategy: 'spread' | 'binpack';
  replicas: number;
  maxPerNode: number | null;
  movable: boolean;
}

export interface WorkloadResult {
  workload: Workload | null;
  issues: SpecIssue[];
}

export const WORKLOAD_KEYS = [
  'name', 'image', 'command', 'env', 'ports', 'volumes', 'devices', 'restart', 'labels', 'resources',
  'constraints', 'preferences', 'spread', 'strategy', 'replicas', 'max_per_node', 'movable',
] as const;

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64', 'x86-64': 'amd64', amd64: 'amd64', x64: 'amd64',
  aarch64: 'arm64', arm64: 'arm64', armv8: 'arm64', armv8l: 'arm64',
  armv7l: 'arm', armv7: 'arm', armhf: 'arm', armv6l: 'arm', arm: 'arm',
  i386: '386', i686: '386', '386': '386',
};

/** Docker reports `uname -m` (x86_64, aarch64); constraints are written like Go/OCI platforms (amd64, arm64): both fold to the latter. */
export function normalizeArch(arch: string): string {
  const a = arch.toLowerCase();
  return Object.hasOwn(ARCH_ALIASES, a) ? (ARCH_ALIASES[a] as string) : a;
}

const ATTRIBUTES = ['arch', 'os', 'hostname', 'node', 'label.KEY'];
const CONSTRAINT_HINT = 'like `arch == arm64`, `label.zone == line-2`, `hostname in (a, b)`, `device /dev/ttyUSB0` or `image-present`';
const RE_IMAGE_PRESENT = /^\s*image-present\s*$/;
const RE_DEVICE = /^\s*device\s+(\S+)\s*$/;
const RE_SET = /^\s*([A-Za-z][\w.\-/]*)\s+(not\s+in|in)\s*\((.*)\)\s*$/;
const RE_CMP = /^\s*([A-Za-z][\w.\-/]*)\s*(==|!=)\s*(.*?)\s*$/;
const RE_SINGLE_EQ = /^\s*[A-Za-z][\w.\-/]*\s*=[^=]/;
const RE_BARE_VALUE = /^[\w.\-/:@+]+$/;
const RE_QUOTED = /^(?:"([^"]*)"|'([^']*)')$/;
const RE_LABEL_KEY = /^[A-Za-z0-9][\w.\-/]*$/;
const RE_DEVICE_PATH = /^\/dev\/[\w.\-/:+]+$/;

function valueOf(raw: string): string | null {
  const v = raw.trim();
  const q = RE_QUOTED.exec(v);
  if (q) return (q[1] ?? q[2]) as string;
  return v !== '' && RE_BARE_VALUE.test(v) ? v : null;
}

function attributeOf(name: string): { attr: Attribute; key: string } | string {
  if (name.startsWith('label.')) {
    const key = name.slice(6);
    if (!RE_LABEL_KEY.test(key)) return `expected a label key after \`label.\`, got ${describe(key)}`;
    return { attr: 'label', key };
  }
  if (name === 'arch' || name === 'os' || name === 'hostname' || name === 'node') return { attr: name, key: '' };
  const plain = ['arch', 'os', 'hostname', 'node'];
  const near = plain.find((a) => editDistance(a, name) <= 2);
  const hint = near ? `did you mean \`${near}\` or the label \`label.${name}\`?` : `a node label is written \`label.${name}\``;
  return `unknown attribute \`${name}\` (${hint}); expected one of: ${ATTRIBUTES.join(', ')}`;
}

/**
 * Compiles one constraint expression. Returns the compiled form, or a
 * message saying what was expected. Values are bare words (letters, digits,
 * `. _ - / : @ +`) or quoted.
 */
export function compileConstraint(text: string): Constraint | string {
  if (RE_IMAGE_PRESENT.test(text)) return { kind: 'image-present', text: 'image-present', negated: 'image not present' };
  const dev = RE_DEVICE.exec(text);
  if (dev) {
    const path = dev[1] as string;
    if (!RE_DEVICE_PATH.test(path)) return `expected a device path under /dev like /dev/ttyUSB0, got ${describe(path)}`;
    return { kind: 'device', path, text: `device ${path}`, negated: `no device ${path}` };
  }
  const set = RE_SET.exec(text);
  const cmp = set ? null : RE_CMP.exec(text);
  const m = set ?? cmp;
  if (!m) {
    // `constraints: [node in (a, b)]`: YAML's flow list ends an item at each comma.
    const opens = text.split('(').length - 1;
    const closes = text.split(')').length - 1;
    if (opens !== closes) {
      return `${describe(text)} has ${opens > closes ? 'no closing' : 'no opening'} parenthesis: YAML splits an unquoted \`node in (a, b)\` at its comma; quote each constraint, like ["node in (a, b)"] or - "node in (a, b)"`;
    }
    if (RE_SINGLE_EQ.test(text)) return `expected \`==\` (one \`=\` is not an operator), got ${describe(text)}`;
    return `expected a constraint ${CONSTRAINT_HINT}, got ${describe(text)}`;
  }
  const at = attributeOf(m[1] as string);
  if (typeof at === 'string') return at;
  const op: Op = set ? ((m[2] as string).startsWith('not') ? 'not in' : 'in') : (m[2] as Op);
  const rawValues = set ? (m[3] as string).split(',') : [m[3] as string];
  const values: string[] = [];
  for (const raw of rawValues) {
    const v = valueOf(raw);
    if (v === null) {
      return set
        ? `expected a list of values like (a, b) (bare words or quoted), got ${describe(`(${m[3]})`)}`
        : `expected a value after ${op} (a bare word or a quoted string), got ${describe(raw.trim())}`;
    }
    values.push(at.attr === 'arch' ? normalizeArch(v) : at.attr === 'os' || at.attr === 'hostname' ? v.toLowerCase() : v);
  }
  if (values.length > MAX_CONSTRAINTS) return `at most ${MAX_CONSTRAINTS} values in a list, got ${values.length}`;
  const field = at.attr === 'label' ? `label.${at.key}` : at.attr;
  const shown = (vs: string[]) => vs.map((v) => (RE_BARE_VALUE.test(v) ? v : JSON.stringify(v))).join(', ');
  const canonical = (o: Op) => (o === 'in' || o === 'not in' ? `${field} ${o} (${shown(values)})` : `${field} ${o} ${shown(values)}`);
  const opposite: Record<Op, Op> = { '==': '!=', '!=': '==', in: 'not in', 'not in': 'in' };
  return { kind: 'attr', attr: at.attr, key: at.key, field, op, values, text: canonical(op), negated: canonical(opposite[op]) };
}

// ---------------------------------------------------------------------------
// Fields

const RE_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
/** Docker's reference grammar (distribution/reference), slightly simplified: [registry[:port]/]path[:tag][@digest]. */
const RE_IMAGE =
  /^(?:(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const RE_ENV_KEY = /^[^=\0]+$/;
const RE_CPU_MILLI = /^\s*(\d+)\s*m\s*$/;
const RE_NUMBER = /^\s*\d+(?:\.\d+)?\s*$/;
const RE_SIZE = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/;
const RE_PORT_TEXT = /^(?:(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):)?(?:(\d+):)?(\d+)(?:\/(tcp|udp|sctp))?$/;
const RE_VOLUME_NAME = /^[A-Za-z0-9][\w.-]*$/;
const RE_PERMISSIONS = /^(?!.*(.).*\1)[rwm]{1,3}$/;

function nameAt(value: unknown, path: Path): string {
  if (typeof value !== 'string' || !RE_NAME.test(value)) {
    throw new FieldError(path, `expected a name of 1 to 63 characters: lower-case letters, digits, _ . - (starting with a letter or digit), got ${describe(value)}`);
  }
  return value;
}

function imageAt(value: unknown, path: Path): string {
  if (value === undefined) throw new FieldError(path, 'missing: the image, like nginx:1.27');
  if (typeof value !== 'string' || value.length > 1024 || !RE_IMAGE.test(value)) {
    throw new FieldError(path, `expected an image reference like nginx:1.27 or registry.local:5000/team/app:2, got ${describe(value)}`);
  }
  return value;
}

/** The forms under which Docker lists an image: `nginx` is `nginx:latest`; Docker Hub's prefixes are dropped. */
export function imageRefsOf(image: string): string[] {
  const refs = new Set<string>([image]);
  const short = image.replace(/^(?:docker\.io|index\.docker\.io)\//, '').replace(/^library\//, '');
  refs.add(short);
  const lastPart = short.slice(short.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !short.includes('@')) refs.add(`${short}:latest`);
  return [...refs];
}

function commandAt(value: unknown, path: Path): string[] {
  if (typeof value === 'string') {
    if (value.trim() === '') throw new FieldError(path, 'expected a command, got an empty string');
    return ['sh', '-c', value];
  }
  if (!Array.isArray(value)) throw new FieldError(path, `expected a command as a string (run with sh -c) or a list of strings (run as is), got ${describe(value)}`);
  if (value.length === 0) throw new FieldError(path, 'expected a command, got an empty list');
  if (value.length > MAX_LIST) throw new FieldError(path, `at most ${MAX_LIST} arguments, got ${value.length}`);
  return value.map((v, i) => {
    if (typeof v !== 'string') throw new FieldError([...path, i], `expected an argument as a string, got ${describe(v)}`);
    return v;
  });
}

/** A label or env value: strings, and whole numbers (YAML reads `1.10` as 1.1 and `yes` may be a boolean: those must be quoted). */
function textValueAt(value: unknown, path: Path, what: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new FieldError(path, `expected ${what} as a string (quote it: YAML reads 1.10 as the number 1.1 and true as a boolean), got ${describe(value)}`);
}

/** A map of strings, or a list of `K=V`; built with fromEntries so a `__proto__` key stays an ordinary key. */
/** Runs every check and throws all their problems together (a file is fixed in one round). */
function gather(checks: (() => void)[]): void {
  const errors: FieldError[] = [];
  for (const check of checks) {
    try {
      check();
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      errors.push(...err.all());
    }
  }
  const [first, ...rest] = errors;
  if (first) throw new FieldError(first.path, first.message, rest);
}

function stringMapAt(value: unknown, path: Path, what: string, listForm: boolean): Record<string, string> {
  const entries: [string, string][] = [];
  if (Array.isArray(value) && listForm) {
    if (value.length > MAX_LIST) throw new FieldError(path, `at most ${MAX_LIST} entries, got ${value.length}`);
    gather(
      value.map((v, i) => () => {
        const eq = typeof v === 'string' ? v.indexOf('=') : -1;
        if (typeof v !== 'string' || eq <= 0) throw new FieldError([...path, i], `expected ${what} as KEY=VALUE, got ${describe(v)}`);
        entries.push([v.slice(0, eq), v.slice(eq + 1)]);
      }),
    );
  } else if (isMap(value)) {
    const keys = Object.keys(value);
    if (keys.length > MAX_LIST) throw new FieldError(path, `at most ${MAX_LIST} entries, got ${keys.length}`);
    gather(
      keys.map((k) => () => {
        if (!RE_ENV_KEY.test(k)) throw new FieldError([...path, k === '' ? '""' : k], `expected a key without = or NUL, got ${describe(k)}`);
        entries.push([k, textValueAt(value[k], [...path, k], what)]);
      }),
    );
  } else {
    throw new FieldError(path, `expected ${listForm ? 'a mapping of KEY: VALUE or a list of KEY=VALUE' : 'a mapping of KEY: VALUE'}, got ${describe(value)}`);
  }
  return Object.fromEntries(entries);
}

function listAt(value: unknown, path: Path, what: string, max = MAX_LIST): unknown[] {
  if (!Array.isArray(value)) throw new FieldError(path, `expected a list of ${what}, got ${describe(value)}`);
  if (value.length > max) throw new FieldError(path, `at most ${max} ${what}, got ${value.length}`);
  return value;
}

function portNumberAt(value: unknown, path: Path, what: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return intAt(n, path, what, 1, 65535);
}

function portAt(value: unknown, path: Path): PortMapping {
  if (typeof value === 'number') return { container: portNumberAt(value, path, 'the container port'), host: null, protocol: 'tcp', ip: null };
  if (typeof value === 'string') {
    const m = RE_PORT_TEXT.exec(value.trim());
    if (!m) throw new FieldError(path, `expected a port like 80, 8080:80 or 127.0.0.1:8080:80/udp, got ${describe(value)}`);
    return {
      container: portNumberAt(m[3], path, 'the container port'),
      host: m[2] === undefined ? null : portNumberAt(m[2], path, 'the host port'),
      protocol: (m[4] as PortMapping['protocol'] | undefined) ?? 'tcp',
      ip: m[1] === undefined ? null : (m[1] as string).replace(/^\[|\]$/g, ''),
    };
  }
  if (!isMap(value)) throw new FieldError(path, `expected a port like 8080:80 or a mapping {host, container, protocol, ip}, got ${describe(value)}`);
  const protocol = value.protocol === undefined ? 'tcp' : value.protocol;
  let container = 0;
  let host: number | null = null;
  // Every problem of the mapping at once: an unknown key does not hide a bad port beside it.
  gather([
    () => checkKeys(value, ['host', 'container', 'protocol', 'ip'], path),
    () => {
      if (value.container === undefined) throw new FieldError([...path, 'container'], 'missing: the container port');
      container = portNumberAt(value.container, [...path, 'container'], 'the container port');
    },
    () => {
      if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') throw new FieldError([...path, 'protocol'], `expected tcp, udp or sctp, got ${describe(protocol)}`);
    },
    () => {
      if (value.ip !== undefined && (typeof value.ip !== 'string' || !/^[0-9a-fA-F:.]+$/.test(value.ip))) throw new FieldError([...path, 'ip'], `expected an IP address like 127.0.0.1, got ${describe(value.ip)}`);
    },
    () => {
      host = value.host === undefined || value.host === null ? null : portNumberAt(value.host, [...path, 'host'], 'the host port');
    },
  ]);
  return { container, host, protocol: protocol as PortMapping['protocol'], ip: typeof value.ip === 'string' ? value.ip : null };
}

function volumeAt(value: unknown, path: Path): VolumeMount {
  const bad = () => new FieldError(path, `expected a volume like /srv/data:/data, data:/data:ro or /data, got ${describe(value)}`);
  if (typeof value !== 'string') throw bad();
  const parts = value.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw bad();
  let mode = 'rw';
  // Two parts are source:target or, for an anonymous volume, target:mode.
  if (parts.length === 2 && !(parts[1] as string).startsWith('/') && parts[1] !== 'ro' && parts[1] !== 'rw') {
    throw new FieldError(path, `expected the target inside the container as an absolute path (or the mode ro or rw after an anonymous volume's target), got ${describe(parts[1])}`);
  }
  if (parts.length === 3 || (parts.length === 2 && !(parts[1] as string).startsWith('/'))) mode = parts.pop() as string;
  if (mode !== 'ro' && mode !== 'rw') throw new FieldError(path, `expected the mode ro or rw after the target, got ${describe(mode)}`);
  const [a, b] = parts as [string, string | undefined];
  const source = b === undefined ? null : a;
  const target = b ?? a;
  if (!target.startsWith('/')) throw new FieldError(path, `expected the target inside the container as an absolute path, got ${describe(target)}`);
  if (source !== null && !source.startsWith('/') && !RE_VOLUME_NAME.test(source)) {
    throw new FieldError(path, `expected the source as an absolute host path or a volume name, got ${describe(source)}`);
  }
  return { source, target, readOnly: mode === 'ro' };
}

function deviceAt(value: unknown, path: Path): DeviceMapping {
  const bad = () => new FieldError(path, `expected a device like /dev/ttyUSB0, /dev/ttyUSB0:/dev/ttyS0 or /dev/video0:/dev/video0:rw, got ${describe(value)}`);
  if (typeof value !== 'string') throw bad();
  const parts = value.split(':');
  if (parts.length > 3) throw bad();
  let permissions = 'rwm';
  const last = parts[parts.length - 1] as string;
  if (parts.length > 1 && !last.startsWith('/')) {
    if (!RE_PERMISSIONS.test(last)) throw new FieldError(path, `expected permissions made of r, w and m (each once), got ${describe(last)}`);
    permissions = parts.pop() as string;
  }
  if (parts.length > 2) throw bad();
  const [host, container] = parts as [string, string | undefined];
  if (!RE_DEVICE_PATH.test(host)) throw new FieldError(path, `expected the host device as a path under /dev, got ${describe(host)}`);
  if (container !== undefined && !container.startsWith('/')) throw new FieldError(path, `expected the container device as an absolute path, got ${describe(container)}`);
  return { host, container: container ?? host, permissions };
}

function restartAt(value: unknown, path: Path): RestartPolicy {
  const hint = 'no, on-failure, on-failure:N, always or unless-stopped';
  if (typeof value !== 'string') throw new FieldError(path, `expected ${hint}, got ${describe(value)}`);
  if (value === 'no' || value === 'always' || value === 'unless-stopped' || value === 'on-failure') return { name: value, maxRetries: null };
  const m = /^on-failure:(\d+)$/.exec(value);
  if (!m) throw new FieldError(path, `expected ${hint}, got ${describe(value)}`);
  return { name: 'on-failure', maxRetries: intAt(Number(m[1]), path, 'the retry count of on-failure:N', 0, 10_000) };
}

function cpuAt(value: unknown, path: Path): number {
  const hint = 'a number of cores above 0, like 0.5, 2 or 500m';
  let n: unknown = value;
  if (typeof value === 'string') {
    const milli = RE_CPU_MILLI.exec(value);
    n = milli ? Number(milli[1]) / 1000 : RE_NUMBER.test(value) ? Number(value) : NaN;
  }
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw new FieldError(path, `expected ${hint}, got ${describe(value)}`);
  if (n > MAX_CPU_CORES) throw new FieldError(path, `expected at most ${MAX_CPU_CORES} cores, got ${describe(value)}`);
  return n;
}

/**
 * Memory like Kubernetes: Ki/Mi/Gi/Ti are powers of 1024, K/M/G/T powers of
 * 1000, a bare number is bytes; KiB/MB… are read by the rules file's
 * parseSize. Lower-case k/m/g alone is refused: Docker reads `512m` as MiB,
 * Kubernetes as millibytes.
 */
function memoryAt(value: unknown, path: Path): number {
  const hint = 'a size like 512Mi, 2Gi, 500M or a number of bytes';
  let bytes: number | null = null;
  if (typeof value === 'number') bytes = Number.isFinite(value) ? Math.round(value) : null;
  else if (typeof value === 'string') {
    const m = RE_SIZE.exec(value);
    const unit = m ? (m[2] as string) : '';
    if (m && /^[kmgt]$/.test(unit)) {
      throw new FieldError(path, `the unit \`${unit}\` is ambiguous (Docker reads ${m[1]}${unit} as ${unit.toUpperCase()}i, Kubernetes as milli-units for m); write ${m[1]}${unit.toUpperCase()}i or ${m[1]}${unit.toUpperCase()}`);
    }
    if (m) bytes = parseSize(/^[KMGT]i$/.test(unit) ? `${m[1]}${unit}B` : value);
  }
  if (bytes === null || bytes <= 0) throw new FieldError(path, `expected ${hint}, got ${describe(value)}`);
  if (bytes > MAX_MEMORY_BYTES) throw new FieldError(path, `expected at most 1 PiB, got ${describe(value)}`);
  return bytes;
}

function resourcesAt(value: unknown, path: Path): Workload['resources'] {
  if (!isMap(value)) throw new FieldError(path, `expected a mapping {cpu, memory}, got ${describe(value)}`);
  const errors: FieldError[] = [];
  const collect = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      errors.push(...err.all());
      return undefined;
    }
  };
  collect(() => checkKeys(value, ['cpu', 'memory'], path));
  const cpu = value.cpu === undefined ? 0 : collect(() => cpuAt(value.cpu, [...path, 'cpu']));
  const memoryBytes = value.memory === undefined ? 0 : collect(() => memoryAt(value.memory, [...path, 'memory']));
  const [first, ...rest] = errors;
  if (first) throw new FieldError(first.path, first.message, rest);
  return { cpu: cpu as number, memoryBytes: memoryBytes as number };
}

function constraintAt(value: unknown, path: Path): Constraint {
  if (typeof value !== 'string') throw new FieldError(path, `expected a constraint ${CONSTRAINT_HINT}, got ${describe(value)}`);
  const c = compileConstraint(value);
  if (typeof c === 'string') throw new FieldError(path, c);
  return c;
}

function preferenceAt(value: unknown, path: Path): Preference {
  if (!isMap(value)) throw new FieldError(path, `expected a mapping {expr: "label.zone == line-2", weight: 10}, got ${describe(value)}`);
  checkKeys(value, ['expr', 'weight'], path);
  if (value.expr === undefined) throw new FieldError([...path, 'expr'], `missing: the expression, ${CONSTRAINT_HINT}`);
  if (value.weight === undefined) throw new FieldError([...path, 'weight'], 'missing: the weight, a whole number from 1 to 100');
  return { constraint: constraintAt(value.expr, [...path, 'expr']), weight: intAt(value.weight, [...path, 'weight'], 'the weight', 1, 100) };
}

function spreadKeyAt(value: unknown, path: Path): { key: string; label: string | null } {
  const hint = 'node, hostname, arch, os or label.KEY';
  if (typeof value !== 'string') throw new FieldError(path, `expected a spread key (${hint}), got ${describe(value)}`);
  if (value === 'node' || value === 'hostname' || value === 'arch' || value === 'os') return { key: value, label: null };
  if (value.startsWith('label.') && RE_LABEL_KEY.test(value.slice(6))) return { key: value, label: value.slice(6) };
  throw new FieldError(path, `expected a spread key (${hint}), got ${describe(value)}`);
}

function spreadAt(value: unknown, path: Path): Spread {
  if (typeof value === 'string') return { ...spreadKeyAt(value, path), maxSkew: 1 };
  if (!isMap(value)) throw new FieldError(path, `expected a key like label.zone or a mapping {key, max_skew}, got ${describe(value)}`);
  checkKeys(value, ['key', 'max_skew'], path);
  if (value.key === undefined) throw new FieldError([...path, 'key'], 'missing: the spread key (node, hostname, arch, os or label.KEY)');
  const maxSkew = value.max_skew === undefined ? 1 : intAt(value.max_skew, [...path, 'max_skew'], 'max_skew', 1, MAX_REPLICAS);
  return { ...spreadKeyAt(value.key, [...path, 'key']), maxSkew };
}

function booleanAt(value: unknown, path: Path): boolean {
  if (typeof value !== 'boolean') throw new FieldError(path, `expected true or false, got ${describe(value)}`);
  return value;
}

// ---------------------------------------------------------------------------
// The document

interface Located {
  file: string;
  doc: Document;
  lines: LineCounter;
}

/** The issue with the position of the deepest node along the path that exists (a key's own position for an unknown key). */
function issueAt(ctx: Located, e: FieldError): SpecIssue {
  const field = e.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[') || '(the workload)';
  const issue: SpecIssue = { file: ctx.file, field, message: e.message };
  let offset: number | undefined;
  if (e.message.startsWith('unknown key') && e.path.length > 0) {
    const parent = ctx.doc.getIn(e.path.slice(0, -1), true);
    const last = e.path[e.path.length - 1];
    if (isYamlMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
      if (pair && isNode(pair.key) && pair.key.range) offset = pair.key.range[0];
    }
  }
  for (let n = e.path.length; offset === undefined && n >= 0; n--) {
    const node = n === 0 ? ctx.doc.contents : ctx.doc.getIn(e.path.slice(0, n), true);
    if (isNode(node) && node.range) offset = node.range[0];
  }
  if (offset !== undefined) {
    const pos = ctx.lines.linePos(offset);
    issue.line = pos.line;
    issue.column = pos.col;
  }
  return issue;
}

/** In the order of the file, so a person can fix them top to bottom (stable: same-place issues keep their order). */
function byPosition(issues: SpecIssue[]): SpecIssue[] {
  return [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/**
 * Parses and checks a workload spec. Never throws: every problem comes back
 * as an issue (all unknown keys, every bad field), and the workload is null
 * when there is any.
 */
export function parseWorkload(text: string, file: string): WorkloadResult {
  const size = Buffer.byteLength(text);
  if (size > MAX_WORKLOAD_FILE_BYTES) {
    return { workload: null, issues: [{ file, field: '(file)', message: `the file is ${(size / 1024 / 1024).toFixed(1)} MiB; a workload spec may be at most 1 MiB` }] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    return {
      workload: null,
      issues: doc.errors.slice(0, 10).map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { file, field: '(syntax)', message: e.message.split('\n')[0] as string, line: pos.line, column: pos.col };
      }),
    };
  }
  const ctx: Located = { file, doc, lines };
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { workload: null, issues: [{ file, field: '(file)', message: (err as Error).message }] };
  }
  if (!isMap(root)) {
    return { workload: null, issues: [issueAt(ctx, new FieldError([], `expected a mapping with at least name and image, got ${describe(root)}`))] };
  }
  const issues: SpecIssue[] = [];
  const at = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      for (const e of err.all()) issues.push(issueAt(ctx, e));
      return undefined;
    }
  };
  /** An optional field: `fallback` when absent, the checked value when present, undefined when wrong. */
  const field = <T>(key: string, fallback: T, check: (v: unknown, p: Path) => T): T | undefined =>
    root[key] === undefined ? fallback : at(() => check(root[key], [key]));
  const listField = <T>(key: string, what: string, check: (v: unknown, p: Path) => T, max = MAX_LIST): T[] | undefined => {
    if (root[key] === undefined || root[key] === null) return [];
    const list = at(() => listAt(root[key], [key], what, max));
    if (!list) return undefined;
    let ok = true;
    const out = list.map((v, i) => {
      const r = at(() => check(v, [key, i]));
      if (r === undefined) ok = false;
      return r as T;
    });
    return ok ? out : undefined;
  };

  at(() => checkKeys(root, WORKLOAD_KEYS, []));
  const name = at(() => {
    if (root.name === undefined) throw new FieldError(['name'], 'missing: the workload name, like web or line-2-reader');
    return nameAt(root.name, ['name']);
  });
  const image = at(() => imageAt(root.image, ['image']));
  const command = field('command', null, commandAt);
  const env = field('env', {}, (v, p) => stringMapAt(v, p, 'an environment variable', true));
  const ports = listField('ports', 'ports', portAt);
  const volumes = listField('volumes', 'volumes', volumeAt);
  const devices = listField('devices', 'devices', deviceAt);
  const restart = field<RestartPolicy>('restart', { name: 'no', maxRetries: null }, restartAt);
  const labels = field('labels', {}, (v, p) => stringMapAt(v, p, 'a label value', false));
  const resources = field('resources', { cpu: 0, memoryBytes: 0 }, resourcesAt);
  const constraints = listField('constraints', 'constraints', constraintAt, MAX_CONSTRAINTS);
  const preferences = listField('preferences', 'preferences', preferenceAt, MAX_CONSTRAINTS);
  const spread = field('spread', null, spreadAt);
  const strategy = field<'spread' | 'binpack'>('strategy', 'spread', (v, p) => {
    if (v !== 'spread' && v !== 'binpack') throw new FieldError(p, `expected spread or binpack, got ${describe(v)}`);
    return v;
  });
  const replicas = field('replicas', 1, (v, p) => intAt(v, p, 'replicas', 1, MAX_REPLICAS));
  const maxPerNode = field<number | null>('max_per_node', null, (v, p) => intAt(v, p, 'max_per_node', 1, MAX_REPLICAS));
  const movable = field('movable', false, booleanAt);

  if (
    issues.length > 0 || name === undefined || image === undefined || command === undefined || env === undefined || ports === undefined ||
    volumes === undefined || devices === undefined || restart === undefined || labels === undefined || resources === undefined ||
    constraints === undefined || preferences === undefined || spread === undefined || strategy === undefined || replicas === undefined ||
    maxPerNode === undefined || movable === undefined
  ) {
    return { workload: null, issues: byPosition(issues) };
  }
  // A container cannot start on a node without the devices it maps: each one is a constraint of its own.
  const allConstraints = [...constraints];
  for (const d of devices) {
    if (!allConstraints.some((c) => c.kind === 'device' && c.path === d.host)) {
      allConstraints.push({ kind: 'device', path: d.host, text: `device ${d.host}`, negated: `no device ${d.host}` });
    }
  }
  return {
    workload: {
      name, image, imageRefs: imageRefsOf(image), command, env, ports, volumes, devices, restart, labels, resources,
      constraints: allConstraints, preferences, spread, strategy, replicas, maxPerNode, movable,
    },
    issues: [],
  };
}
