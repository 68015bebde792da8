// esbuild plugins shared by the CLI/TUI build and the tray app's build.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/**
 * docker-modem formats every request with util.inspect({showHidden, depth:
 * null}) for a debug line even when debugging is off: with a keep-alive
 * agent in the options that was ~8 ms per request (400 ms for `ps` of 50
 * containers). The build makes that line conditional on DEBUG=modem.
 *
 * dockerode also pulls in gRPC (for BuildKit sessions, which Outpost never opens)
 * and ssh2 (only for ssh:// engines) at load time; together they were ~85 ms
 * of a ~200 ms start. gRPC is replaced by a module that throws if ever used;
 * ssh2 is required only when an ssh:// connection is made.
 */
export const trimDockerode = {
  name: 'trim-dockerode',
  setup(b) {
    b.onResolve({ filter: /^(@grpc\/grpc-js|@grpc\/proto-loader|protobufjs)$/ }, (args) => ({
      path: args.path,
      namespace: 'outpost-unused',
    }));
    b.onLoad({ filter: /.*/, namespace: 'outpost-unused' }, (args) => ({
      contents: `module.exports = new Proxy({}, { get() { throw new Error('${args.path} is not bundled with Outpost (BuildKit sessions are not supported)'); } });`,
      loader: 'js',
    }));
    b.onLoad({ filter: /docker-modem[\\/]lib[\\/]modem\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      const line = "debug('Sending: %s', util.inspect(options, {";
      if (!src.includes(line)) throw new Error('docker-modem/lib/modem.js changed: update scripts/build.mjs (debug inspect)');
      // For ssh:// engines the modem builds the request's address as `ssh:host:port/path` and
      // parses it with url.parse: Node 20 warns (DEP0170), Node 26 (the single executable's)
      // throws "Invalid port". The address only feeds the HTTP request that the ssh agent carries,
      // so it is built as http://host:port/path.
      const address = 'protocol: parsed.protocol || this.protocol,';
      if (!src.includes(address)) throw new Error('docker-modem/lib/modem.js changed: update scripts/esbuild-plugins.mjs (ssh address)');
      return {
        contents: src.replace(line, `if (debug.enabled) ${line}`).replace(address, "protocol: parsed.protocol || (this.protocol === 'ssh' ? 'http' : this.protocol),"),
        loader: 'js',
      };
    });
    b.onLoad({ filter: /docker-modem[\\/]lib[\\/]ssh\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      const head = "var Client = require('ssh2').Client,";
      if (!src.includes(head) || !src.includes('new Client()')) {
        throw new Error('docker-modem/lib/ssh.js changed: update scripts/build.mjs (lazy ssh2)');
      }
      return {
        contents: src.replace(head, 'var').replace('new Client()', "new (require('ssh2').Client)()"),
        loader: 'js',
      };
    });
  },
};


/**
 * Two changes to the terminal UI's rendering stack, both measured on startup:
 * - Ink's frame builder (ink/build/output.js) is replaced by tui/app/ink-output.ts,
 *   which keeps cells shared and parses each distinct line once (300 ms of a cold
 *   start and most of a steady frame's CPU were in Ink's);
 * - string-width is given a fast path for the symbols a TUI is drawn with (its
 *   first non-ASCII call cost ~50 ms, later ones ~70 µs, on every frame);
 * - yoga-layout's Emscripten loader fetch()es its embedded wasm from a data: URL
 *   when fetch exists, which loads Node's HTTP client (undici) for ~75 ms; without
 *   fetch it decodes the same base64 synchronously.
 * vitest.config.ts puts the same Output in place for the component tests.
 */
/** The packages Ink measures and draws text with (ESM). */
export const INK_PACKAGES = ['ink', 'widest-line', 'cli-truncate', 'wrap-ansi', 'slice-ansi'];
const INK_FAMILY = new RegExp(`[\\\\/]node_modules[\\\\/](${INK_PACKAGES.join('|')})[\\\\/]`);
const INK_OUTPUT = fileURLToPath(new URL('../tui/app/ink-output.ts', import.meta.url));
const FAST_WIDTH = fileURLToPath(new URL('../tui/app/fast-string-width.ts', import.meta.url));

/**
 * The Outpost file that stands in for an import made inside Ink's packages, or
 * undefined. Shared by the build below and by vitest.config.ts, so the tests
 * render through what the built TUI runs.
 */
export function inkReplacement(specifier, importer) {
  if (specifier === './output.js' && /[\\/]ink[\\/]build[\\/]/.test(importer)) return INK_OUTPUT;
  if (specifier === 'string-width' && INK_FAMILY.test(importer)) return FAST_WIDTH;
  return undefined;
}

export const inkFastPaths = {
  name: 'ink-fast-paths',
  setup(b) {
    // Both are ESM imports inside Ink's packages; a CommonJS require of string-width elsewhere is left alone.
    b.onResolve({ filter: /^(\.\/output\.js|string-width)$/ }, (args) => {
      const path = args.kind === 'import-statement' ? inkReplacement(args.path, args.importer) : undefined;
      return path ? { path } : undefined;
    });
    b.onLoad({ filter: /yoga-layout[\\/]dist[\\/]binaries[\\/]yoga-wasm-base64-esm\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      const probe = 'w||"function"!=typeof fetch?';
      if (!src.includes(probe)) throw new Error('yoga-layout changed: update scripts/esbuild-plugins.mjs (wasm without fetch)');
      return { contents: src.replace(probe, 'w||!0?'), loader: 'js' };
    });
  },
};
