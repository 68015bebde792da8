import { PtyRun } from './pty.js';
const env = { ...process.env, DOCKER_HOST: process.env.DH, TERM: 'xterm-256color' };
const name = process.argv[2] ?? 'flood';
const run = new PtyRun(process.argv[3] ?? 'dist/outpost.mjs', 120, 40, env);
await run.waitForScreen((s) => s.some((l) => l.includes('bench-00')));
const row = new RegExp(`^\\s+${name}\\s`);
const filtered = run.waitForScreen((s) => s.some((l) => row.test(l)) && !s.some((l) => l.includes('bench-00')));
run.type(`/${name}\r`);
await filtered;
run.type('\r');
await run.waitForScreen((s) => (s[0] ?? '').startsWith(`logs ${name}`));
await new Promise((r) => setTimeout(r, 2000));
const lat: number[] = [];
for (let k = 0; k < 10; k++) {
  await new Promise((r) => setTimeout(r, 700));
  const on = k % 2 === 0;
  const shown = run.waitForScreen((s) => (s[0] ?? '').includes('timestamps') === on, 10_000);
  const sent = performance.now();
  run.type('t');
  lat.push(Math.round((await shown) - sent));
}
console.log('latencies', lat.join(' '), '| header:', run.screen()[0]);
await run.stop();
process.exit(0);
