// Run by the runtime a single executable carries (scripts/release.mjs), under
// qemu for another architecture: makes the V8 code cache of the app asset.
//   node sea-cache.cjs APP.cjs OUT.cache [V8 flag...]
// The flags are those the start file has set when it loads the app (a cache
// is keyed by them). The app's top level runs once first (it only defines
// modules and builds nothing), so what it compiles is in the cache too.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { dirname } = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const [app, out, ...flags] = process.argv.slice(2);
for (const f of flags) v8.setFlagsFromString(f);
const script = new vm.Script(readFileSync(app, 'utf8'), { filename: 'outpost:app.cjs' });
const mod = { exports: {} };
script.runInThisContext()(require, mod, mod.exports, process.execPath, dirname(process.execPath));
if (typeof mod.exports.runCli !== 'function') throw new Error('the app asset does not export runCli');
writeFileSync(out, script.createCachedData());
