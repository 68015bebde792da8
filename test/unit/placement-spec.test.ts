import { describe, expect, it } from 'vitest';
import { compileConstraint, formatIssue, MAX_WORKLOAD_FILE_BYTES, parseWorkload } from '../../core/placement/index.js';

const F = '/etc/outpost/web.yaml';

function parse(text: string) {
  const r = parseWorkload(text, F);
  return { ...r, lines: r.issues.map(formatIssue) };
}

/** The one issue at `field` (fails when there is none). */
function issueAt(text: string, field: string) {
  const { issues } = parse(text);
  const found = issues.find((i) => i.field === field);
  if (!found) throw new Error(`no issue at ${field}: ${JSON.stringify(issues)}`);
  return found;
}

describe('parseWorkload: good specs', () => {
  it('compiles every field of a full spec', () => {
    const { workload, issues } = parse(`
name: line-2-reader
image: registry.local:5000/plant/reader:2.1
command: ["/reader", "--port", "/dev/ttyS0"]
env: {MODE: prod, PORT: 8080}
ports: ["8080:80", "127.0.0.1:9000:9000/udp", 53, {host: 5353, container: 53, protocol: udp}]
volumes: ["/srv/reader:/data", "cache:/cache:ro", "/tmp/x"]
devices: ["/dev/ttyUSB0:/dev/ttyS0:rw", "/dev/video0"]
restart: on-failure:5
labels: {team: plant, "com.example/tier": "1"}
resources: {cpu: 500m, memory: 512Mi}
constraints:
  - arch == arm64
  - os == Linux
  - label.zone == line-2
  - label.gpu != true
  - hostname in (edge-1, "edge 2")
  - hostname not in (edge-9)
  - node == edge-1
  - device /dev/ttyUSB0
  - image-present
preferences:
  - {expr: "label.rack == a", weight: 10}
  - {expr: image-present, weight: 5}
spread: {key: label.zone, max_skew: 2}
strategy: binpack
replicas: 3
max_per_node: 2
movable: true
`);
    expect(issues).toEqual([]);
    expect(workload).toMatchObject({
      name: 'line-2-reader',
      image: 'registry.local:5000/plant/reader:2.1',
      command: ['/reader', '--port', '/dev/ttyS0'],
      env: { MODE: 'prod', PORT: '8080' },
      ports: [
        { container: 80, host: 8080, protocol: 'tcp', ip: null },
        { container: 9000, host: 9000, protocol: 'udp', ip: '127.0.0.1' },
        { container: 53, host: null, protocol: 'tcp', ip: null },
        { container: 53, host: 5353, protocol: 'udp', ip: null },
      ],
      volumes: [
        { source: '/srv/reader', target: '/data', readOnly: false },
        { source: 'cache', target: '/cache', readOnly: true },
        { source: null, target: '/tmp/x', readOnly: false },
      ],
      devices: [
        { host: '/dev/ttyUSB0', container: '/dev/ttyS0', permissions: 'rw' },
        { host: '/dev/video0', container: '/dev/video0', permissions: 'rwm' },
      ],
      restart: { name: 'on-failure', maxRetries: 5 },
      labels: { team: 'plant', 'com.example/tier': '1' },
      resources: { cpu: 0.5, memoryBytes: 512 * 1024 ** 2 },
      spread: { key: 'label.zone', label: 'zone', maxSkew: 2 },
      strategy: 'binpack',
      replicas: 3,
      maxPerNode: 2,
      movable: true,
    });
    const texts = workload?.constraints.map((c) => c.text);
    // os is lower-cased, the quoted value keeps its quotes in the canonical text, and /dev/video0 is implied by `devices`.
    expect(texts).toEqual([
      'arch == arm64', 'os == linux', 'label.zone == line-2', 'label.gpu != true', 'hostname in (edge-1, "edge 2")',
      'hostname not in (edge-9)', 'node == edge-1', 'device /dev/ttyUSB0', 'image-present', 'device /dev/video0',
    ]);
    expect(workload?.preferences.map((p) => [p.constraint.text, p.weight])).toEqual([['label.rack == a', 10], ['image-present', 5]]);
  });

  it('gives the defaults for a minimal spec, and reads JSON', () => {
    const { workload, issues } = parse('{"name": "web", "image": "nginx"}');
    expect(issues).toEqual([]);
    expect(workload).toMatchObject({
      command: null, env: {}, ports: [], volumes: [], devices: [], restart: { name: 'no', maxRetries: null }, labels: {},
      resources: { cpu: 0, memoryBytes: 0 }, constraints: [], preferences: [], spread: null, strategy: 'spread', replicas: 1, maxPerNode: null, movable: false,
    });
    expect(workload?.imageRefs).toEqual(['nginx', 'nginx:latest']);
  });

  it.each([
    ['0.5', 0.5], ['2', 2], ['"250m"', 0.25], ['"1.5"', 1.5],
  ])('cpu %s is %d cores', (text, cores) => {
    expect(parse(`name: a\nimage: x\nresources: {cpu: ${text}}`).workload?.resources.cpu).toBe(cores);
  });

  it.each([
    ['512Mi', 512 * 1024 ** 2], ['2Gi', 2 * 1024 ** 3], ['1.5Gi', 1.5 * 1024 ** 3], ['64Ki', 65536], ['500M', 500e6], ['1G', 1e9],
    ['256MiB', 256 * 1024 ** 2], ['1048576', 1048576], ['"1000"', 1000],
  ])('memory %s is %d bytes', (text, bytes) => {
    expect(parse(`name: a\nimage: x\nresources: {memory: ${text}}`).workload?.resources.memoryBytes).toBe(bytes);
  });

  it('reads a string command as sh -c, env as a list of K=V, spread as a bare key with max_skew 1', () => {
    const { workload } = parse('name: a\nimage: x\ncommand: echo hi && sleep 1\nenv: ["A=1", "B=x=y"]\nspread: node\nrestart: unless-stopped');
    expect(workload?.command).toEqual(['sh', '-c', 'echo hi && sleep 1']);
    expect(workload?.env).toEqual({ A: '1', B: 'x=y' });
    expect(workload?.spread).toEqual({ key: 'node', label: null, maxSkew: 1 });
    expect(workload?.restart).toEqual({ name: 'unless-stopped', maxRetries: null });
  });

  it('knows the Docker Hub forms of an image', () => {
    expect(parse('name: a\nimage: docker.io/library/nginx:1.27').workload?.imageRefs).toEqual(['docker.io/library/nginx:1.27', 'nginx:1.27']);
    expect(parse('name: a\nimage: registry.local:5000/app').workload?.imageRefs).toEqual(['registry.local:5000/app', 'registry.local:5000/app:latest']);
  });

  it('folds Docker arch names to platform names in constraints', () => {
    const c = compileConstraint('arch in (x86_64, aarch64)');
    expect(typeof c !== 'string' && c.kind === 'attr' && c.values).toEqual(['amd64', 'arm64']);
  });
});

describe('parseWorkload: malformed specs name file:line:col, the field, what was expected and what was found', () => {
  // Each row: the spec, the field, line, column, and words the message must hold.
  const cases: [string, string, string, number, number, string[]][] = [
    ['missing image', 'name: web\n', 'image', 1, 1, ['missing: the image']],
    ['missing name', 'image: nginx\n', 'name', 1, 1, ['missing: the workload name']],
    ['upper-case name', 'name: Web\nimage: nginx\n', 'name', 1, 7, ['1 to 63', '"Web"']],
    ['name too long', `name: ${'a'.repeat(64)}\nimage: nginx\n`, 'name', 1, 7, ['1 to 63']],
    ['image as a number', 'name: a\nimage: 12\n', 'image', 2, 8, ['image reference', 'number 12']],
    ['image with spaces', 'name: a\nimage: "ngi nx"\n', 'image', 2, 8, ['image reference', '"ngi nx"']],
    ['command as a mapping', 'name: a\nimage: x\ncommand: {run: 1}\n', 'command', 3, 10, ['a string (run with sh -c) or a list', 'a mapping']],
    ['command list with a number', 'name: a\nimage: x\ncommand: [run, 3]\n', 'command[1]', 3, 16, ['argument as a string', 'number 3']],
    ['env boolean', 'name: a\nimage: x\nenv:\n  DEBUG: true\n', 'env.DEBUG', 4, 10, ['quote it', 'boolean true']],
    ['env float', 'name: a\nimage: x\nenv: {V: 1.10}\n', 'env.V', 3, 10, ['1.10 as the number 1.1', 'number 1.1']],
    ['env list without =', 'name: a\nimage: x\nenv: [A]\n', 'env[0]', 3, 7, ['KEY=VALUE', '"A"']],
    ['port text', 'name: a\nimage: x\nports: ["80:80:80:80"]\n', 'ports[0]', 3, 9, ['8080:80', '"80:80:80:80"']],
    ['port out of range', 'name: a\nimage: x\nports: [{container: 70000}]\n', 'ports[0].container', 3, 21, ['1 to 65535', 'number 70000']],
    ['port protocol', 'name: a\nimage: x\nports: [{container: 80, protocol: icmp}]\n', 'ports[0].protocol', 3, 35, ['tcp, udp or sctp', '"icmp"']],
    ['volume relative target', 'name: a\nimage: x\nvolumes: ["/a:data"]\n', 'volumes[0]', 3, 11, ['target inside the container as an absolute path', '"data"']],
    ['volume relative target with a mode', 'name: a\nimage: x\nvolumes: ["/a:data:ro"]\n', 'volumes[0]', 3, 11, ['target inside the container as an absolute path', '"data"']],
    ['unquoted set split by YAML at its comma', 'name: a\nimage: x\nconstraints: [node in (a, b)]\n', 'constraints[0]', 3, 15, ['no closing parenthesis', 'quote each constraint', '"node in (a"']],
    ['volume bad mode', 'name: a\nimage: x\nvolumes: ["/a:/b:rx"]\n', 'volumes[0]', 3, 11, ['mode ro or rw', '"rx"']],
    ['device outside /dev', 'name: a\nimage: x\ndevices: ["/tmp/tty"]\n', 'devices[0]', 3, 11, ['under /dev', '"/tmp/tty"']],
    ['device permissions', 'name: a\nimage: x\ndevices: ["/dev/tty0:rr"]\n', 'devices[0]', 3, 11, ['r, w and m', '"rr"']],
    ['restart', 'name: a\nimage: x\nrestart: sometimes\n', 'restart', 3, 10, ['on-failure:N', '"sometimes"']],
    ['restart false', 'name: a\nimage: x\nrestart: false\n', 'restart', 3, 10, ['no, on-failure', 'boolean false']],
    ['labels as a list', 'name: a\nimage: x\nlabels: [a]\n', 'labels', 3, 9, ['mapping of KEY: VALUE', 'a list']],
    ['cpu zero', 'name: a\nimage: x\nresources: {cpu: 0}\n', 'resources.cpu', 3, 18, ['above 0', 'number 0']],
    ['cpu negative', 'name: a\nimage: x\nresources:\n  cpu: -1\n', 'resources.cpu', 4, 8, ['above 0', 'number -1']],
    ['memory 12Zi', 'name: a\nimage: x\nresources: {memory: 12Zi}\n', 'resources.memory', 3, 21, ['512Mi', '"12Zi"']],
    ['memory lower-case m', 'name: a\nimage: x\nresources: {memory: 512m}\n', 'resources.memory', 3, 21, ['ambiguous', '512Mi or 512M']],
    ['memory too large', 'name: a\nimage: x\nresources: {memory: 2048Ti}\n', 'resources.memory', 3, 21, ['at most 1 PiB']],
    ['resources not a map', 'name: a\nimage: x\nresources: 2\n', 'resources', 3, 12, ['{cpu, memory}', 'number 2']],
    ['constraints not a list', 'name: a\nimage: x\nconstraints: "arch == arm64"\n', 'constraints', 3, 14, ['a list of constraints', '"arch == arm64"']],
    ['unknown attribute', 'name: a\nimage: x\nconstraints: [zone == a]\n', 'constraints[0]', 3, 15, ['unknown attribute `zone`', '`label.zone`']],
    ['single =', 'name: a\nimage: x\nconstraints: ["arch = arm64"]\n', 'constraints[0]', 3, 15, ['`==`', '"arch = arm64"']],
    ['unclosed list', 'name: a\nimage: x\nconstraints: ["hostname in (a, b"]\n', 'constraints[0]', 3, 15, ['no closing parenthesis', '"hostname in (a, b"']],
    ['empty value', 'name: a\nimage: x\nconstraints: ["label.zone =="]\n', 'constraints[0]', 3, 15, ['a value after ==']],
    ['device constraint path', 'name: a\nimage: x\nconstraints: ["device ttyUSB0"]\n', 'constraints[0]', 3, 15, ['under /dev', '"ttyUSB0"']],
    ['constraint as a number', 'name: a\nimage: x\nconstraints:\n  - 3\n', 'constraints[0]', 4, 5, ['expected a constraint', 'number 3']],
    ['preference without weight', 'name: a\nimage: x\npreferences: [{expr: "label.a == b"}]\n', 'preferences[0].weight', 3, 15, ['missing: the weight']],
    ['preference weight 101', 'name: a\nimage: x\npreferences: [{expr: "label.a == b", weight: 101}]\n', 'preferences[0].weight', 3, 46, ['1 to 100', 'number 101']],
    ['preference as a string', 'name: a\nimage: x\npreferences: ["label.a == b"]\n', 'preferences[0]', 3, 15, ['{expr:', '"label.a == b"']],
    ['spread key', 'name: a\nimage: x\nspread: zone\n', 'spread', 3, 9, ['label.KEY', '"zone"']],
    ['max_skew 0', 'name: a\nimage: x\nspread: {key: node, max_skew: 0}\n', 'spread.max_skew', 3, 31, ['1 to 100', 'number 0']],
    ['strategy', 'name: a\nimage: x\nstrategy: pack\n', 'strategy', 3, 11, ['spread or binpack', '"pack"']],
    ['replicas 1e999', 'name: a\nimage: x\nreplicas: 1e999\n', 'replicas', 3, 11, ['1 to 100', 'Infinity']],
    ['replicas 0', 'name: a\nimage: x\nreplicas: 0\n', 'replicas', 3, 11, ['1 to 100', 'number 0']],
    ['replicas 1.5', 'name: a\nimage: x\nreplicas: 1.5\n', 'replicas', 3, 11, ['whole number', 'number 1.5']],
    ['max_per_node string', 'name: a\nimage: x\nmax_per_node: "2"\n', 'max_per_node', 3, 15, ['whole number', '"2"']],
    ['movable yes', 'name: a\nimage: x\nmovable: yes\n', 'movable', 3, 10, ['true or false', '"yes"']],
  ];
  it.each(cases)('%s', (_what, text, field, line, column, words) => {
    const issue = issueAt(text, field);
    expect({ file: issue.file, line: issue.line, column: issue.column }).toEqual({ file: F, line, column });
    for (const w of words) expect(issue.message).toContain(w);
    expect(parseWorkload(text, F).workload).toBeNull();
  });

  it('reports every unknown key with a suggestion, each at its own key', () => {
    const { issues, lines } = parse('name: a\nimage: x\nreplica: 2\nresources: {cpu: 1, memry: 1Gi}\nconstraint: []\nspread: {key: node, maxSkew: 2}\n');
    expect(lines).toEqual([
      expect.stringMatching(/^\/etc\/outpost\/web\.yaml:3:1: replica: unknown key `replica` \(did you mean `replicas`\?\)/),
      expect.stringMatching(/:4:21: resources\.memry: unknown key `memry` \(did you mean `memory`\?\)/),
      expect.stringMatching(/:5:1: constraint: unknown key `constraint` \(did you mean `constraints`\?\)/),
      expect.stringMatching(/:6:21: spread\.maxSkew: unknown key `maxSkew` \(did you mean `max_skew`\?\); expected one of: key, max_skew/),
    ]);
    expect(issues).toHaveLength(4);
  });

  it('reports every bad field in one run, in the order of the file', () => {
    const { issues } = parse('name: A\nimage: 1\nreplicas: 0\nstrategy: x\n');
    expect(issues.map((i) => [i.field, i.line])).toEqual([['name', 1], ['image', 2], ['replicas', 3], ['strategy', 4]]);
  });

  it('reports a YAML syntax error with its position', () => {
    const { issues } = parse('name: a\nimage: [x\n');
    expect(issues[0]).toMatchObject({ field: '(syntax)', line: expect.any(Number), column: expect.any(Number) });
  });

  it('reports a duplicate key', () => {
    const { issues } = parse('name: a\nname: b\nimage: x\n');
    expect(issues[0]).toMatchObject({ field: '(syntax)', line: 2 });
    expect(issues[0]?.message).toMatch(/unique/i);
  });

  it.each([
    ['a list', '- a\n- b\n', 'a list'],
    ['a scalar', 'web\n', '"web"'],
    ['nothing', '', 'nothing'],
  ])('refuses %s at the top', (_w, text, found) => {
    const { issues, workload } = parse(text);
    expect(workload).toBeNull();
    expect(issues[0]?.field).toBe('(the workload)');
    expect(issues[0]?.message).toContain(found);
  });
});

describe('parseWorkload: hostile input', () => {
  it('refuses a file over 1 MiB before parsing it', () => {
    const text = `name: a\nimage: x\n# ${'x'.repeat(MAX_WORKLOAD_FILE_BYTES)}\n`;
    const t0 = performance.now();
    const { issues, workload } = parse(text);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(workload).toBeNull();
    expect(issues).toEqual([{ file: F, field: '(file)', message: expect.stringContaining('at most 1 MiB') }]);
  });

  it('reports __proto__ at the top as an unknown key and pollutes nothing', () => {
    const { issues } = parse('name: a\nimage: x\n__proto__: {polluted: true}\n');
    expect(issues).toEqual([expect.objectContaining({ field: '__proto__', line: 3, column: 1 })]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps a __proto__ label as an ordinary key', () => {
    const { workload } = parse('name: a\nimage: x\nlabels: {__proto__: evil, constructor: c}\n');
    expect(Object.getPrototypeOf(workload?.labels)).toBe(Object.prototype);
    expect(Object.keys(workload?.labels ?? {})).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).evil).toBeUndefined();
  });

  it('stops a billion-laughs alias bomb', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    const { workload, issues } = parse(`${bomb}\nname: a\nimage: x\n`);
    expect(workload).toBeNull();
    expect(issues.length).toBeGreaterThan(0);
  });

  it.each([
    ['replicas as a list', 'replicas: [1]', 'replicas'],
    ['resources.cpu as a mapping', 'resources: {cpu: {a: 1}}', 'resources.cpu'],
    ['ports as a mapping', 'ports: {a: 1}', 'ports'],
    ['too many constraints', `constraints: [${Array(101).fill('"os == linux"').join(', ')}]`, 'constraints'],
    ['a huge number of cores', 'resources: {cpu: 1e308}', 'resources.cpu'],
    ['memory as .inf', 'resources: {memory: .inf}', 'resources.memory'],
    ['replicas as NaN', 'replicas: .nan', 'replicas'],
    ['a 2000-character name', `name2: x\nlabels: {a: b}`, 'name2'],
  ])('refuses %s', (_w, line, field) => {
    const text = line.startsWith('name2') ? `name: a\nimage: x\n${line}` : `name: a\nimage: x\n${line}\n`;
    expect(parse(text).issues.map((i) => i.field)).toContain(field);
  });

  it('answers quickly for a long hostile image reference', () => {
    const t0 = performance.now();
    const { issues } = parse(`name: a\nimage: "${'a-'.repeat(500)}!"\n`);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(issues[0]?.field).toBe('image');
  });
});

describe('parseWorkload: every problem of a mapping in one run', () => {
  it('reports each bad env entry, in both forms, and every problem of one port mapping', () => {
    const map = parse('name: web\nimage: nginx\nenv: {DEBUG: true, RATIO: [1], OK: 1}\n');
    expect(map.issues.map((i) => i.field)).toEqual(['env.DEBUG', 'env.RATIO']);
    const list = parse('name: web\nimage: nginx\nenv: ["A=1", 5, "noequals", "=x"]\n');
    expect(list.issues.map((i) => i.field)).toEqual(['env[1]', 'env[2]', 'env[3]']);
    const port = parse('name: web\nimage: nginx\nports: [{host: 1, container: 0, protocl: udp}]\n');
    expect(port.issues.map((i) => i.field).sort()).toEqual(['ports[0].container', 'ports[0].protocl']);
    expect(port.lines.find((l) => l.includes('protocl'))).toMatch(/did you mean `protocol`/);
  });
});
