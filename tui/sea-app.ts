/**
 * How the single executable (scripts/release.mjs) loads the rest of
 * `outpost` after the first frame. Only its build uses this file.
 *
 * The executable's main script is the start file alone (tui/main.ts, a few
 * dozen KiB): compiling the whole program as its main script cost ~50 ms
 * before the first frame, code cache or not. The rest is an asset of the
 * executable, `app.cjs` (tui/app-entry.ts as one CommonJS function), with a
 * V8 code cache made by the same runtime at build time (`app.cache`), run
 * here with the flags the start file has set by then.
 */
import { createRequire } from 'node:module';
import type * as SeaModule from 'node:sea';
import type * as VmModule from 'node:vm';

type AppModule = typeof import('./app-entry.js');

/** Whether the asset's code cache was used (false when V8 refused it: then it compiled from source). */
export let appCodeCacheAccepted: boolean | null = null;

/**
 * `memoryFlags`: whether the start file has set its V8 memory flags by now
 * (the terminal UI has; the CLI has not). A code cache is keyed by the flags,
 * so the build makes one for each (`app.cache`, `app-flags.cache`).
 */
export function loadBundledApp(memoryFlags: boolean): Promise<AppModule> {
  const sea = process.getBuiltinModule('node:sea') as typeof SeaModule;
  const vm = process.getBuiltinModule('node:vm') as typeof VmModule;
  // The build keeps the asset ASCII (scripts/release.mjs checks): read as latin1, which costs
  // nothing, where decoding its 2.7 MB as UTF-8 took ~6 ms.
  // getRawAsset: the bytes where the executable holds them, not a copy on the heap.
  const source = Buffer.from(sea.getRawAsset('app.cjs') as ArrayBuffer).toString('latin1');
  const cache = Buffer.from(sea.getRawAsset(memoryFlags ? 'app-flags.cache' : 'app.cache') as ArrayBuffer);
  const script = new vm.Script(source, { filename: 'outpost:app.cjs', cachedData: cache });
  appCodeCacheAccepted = !script.cachedDataRejected;
  if (process.env.OUTPOST_DEBUG_STARTUP) process.stderr.write(`outpost: app code cache ${appCodeCacheAccepted ? 'accepted' : 'rejected'}\n`);
  const wrapper = script.runInThisContext() as (require: NodeJS.Require, module: { exports: unknown }, exports: unknown, filename: string, dirname: string) => void;
  const module = { exports: {} as unknown };
  // Built-in modules only: everything else is inside the asset.
  const { dirname } = process.getBuiltinModule('node:path') as typeof import('node:path');
  wrapper(createRequire(process.execPath), module, module.exports, process.execPath, dirname(process.execPath));
  return Promise.resolve(module.exports as AppModule);
}
