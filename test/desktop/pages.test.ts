/**
 * The tray's dashboard and settings pages, built by Vite, rendered in real
 * headless Chromium (Debian's, driven by playwright-core). In place of
 * Electron's preload, an init script gives the page the same `window.outpost`
 * API, wired to the real controller, the real core and the private engine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { LocalRules } from '../../core/agent/local-rules.js';
import { Fleet } from '../../core/fleet.js';
import { Journal } from '../../core/agent/journal.js';
import { PLACEMENT_STATE_FILE } from '../../core/agent/placement-link.js';
import { DesktopController, type Shell } from '../../desktop/src/main/controller.js';
import type { EventName, Events, Settings } from '../../desktop/src/shared/ipc.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { startTestAgent } from '../api/harness.js';
import { encodeJoinCode } from '../../core/api/join-code.js';
import { readPeers, readTokens } from '../../core/peers/config.js';

const P = 'page-';
const PAGES = 'desktop/dist/renderer';
const ARTIFACTS = 'test/.artifacts';
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'none'; object-src 'none'; base-uri 'none'";

let server: Server;
let base: string;
let browser: Browser;
let dir: string;
let fleet: Fleet;
let node: LocalNode;
let controller: DesktopController;
const pages = new Set<Page>();
let settings: Settings = { notifications: true, startAtLogin: false };
let peersEnv: NodeJS.ProcessEnv;

/** The Electron shell's part that the pages see: events go to every open page. */
const shell: Shell = {
  setTray: () => undefined,
  notify: () => undefined,
  showWindow: () => undefined,
  setLoginItem: () => undefined,
  quit: () => undefined,
  send<E extends EventName>(event: E, payload: Events[E]) {
    for (const p of pages) void p.evaluate(([e, d]) => (window as unknown as { __outpostEmit(e: string, d: unknown): void }).__outpostEmit(e, d), [event, payload] as const).catch(() => undefined);
  },
};

beforeAll(async () => {
  if (!existsSync(join(PAGES, 'dashboard.html'))) execFileSync(process.execPath, ['desktop/scripts/build.mjs'], { stdio: 'inherit' });
  mkdirSync(ARTIFACTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'outpost-pages-'));
  await makeContainer(docker(), { name: `${P}web`, cmd: "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo \"GET /index.html $i\"; echo '<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>'; sleep 0.2; done" });
  await makeContainer(docker(), { name: `${P}db`, cmd: "trap 'exit 0' TERM; while :; do echo query ok; sleep 1; done" });
  await makeContainer(docker(), { name: `${P}api-0`, cmd: 'sleep 3600', labels: { 'outpost.workload': `${P}api<script>window.__pwned=3</script>`, 'outpost.workload.replica': '0', 'outpost.workload.movable': 'true' } });
  const broken = await makeContainer(docker(), { name: `${P}broken`, cmd: 'echo failing >&2; exit 3' });
  await broken.wait();
  const { journal } = Journal.open(join(dir, 'state', 'outpost'));
  journal.append({ ts: Date.now(), node: 'local', kind: 'give-up', container: `${P}broken`, rule: 'crash', reason: `gave up on ${P}broken <b onmouseover=alert(1)>3 restarts</b>` });
  journal.close();

  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(PAGES, path);
    if (!file.startsWith(PAGES) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const type = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' }[extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'content-security-policy': CSP }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const paths = { rulesFile: join(dir, 'config', 'outpost', 'rules.yaml'), stateDir: join(dir, 'state', 'outpost') };
  // As electron-main.ts builds it: the node respects the fences of the agent's state directory.
  node = new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST'), rules: (n) => new LocalRules(n, paths), stateDir: paths.stateDir });
  fleet = new Fleet([node]);
  await node.connect();
  peersEnv = { XDG_CONFIG_HOME: join(dir, 'config'), HOME: dir };
  controller = new DesktopController({ fleet, shell, hostIntervalMs: 500, peersEnv, settings: { get: () => settings, set: (p) => (settings = { ...settings, ...p }) } });
  controller.start();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  controller?.close();
  await fleet?.close();
  await new Promise((r) => server?.close(r));
  await removeByPrefix(docker(), P);
  rmSync(dir, { recursive: true, force: true });
});

async function open(page: 'dashboard' | 'settings'): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(e.message));
  // A Content-Security-Policy violation or a React error shows up as a console error.
  p.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  (p as Page & { errors: string[] }).errors = errors;
  await p.exposeFunction('__outpostCall', (channel: string, args: unknown) => controller.handle(channel, args));
  // What Electron's preload does, over playwright's bridge instead of IPC.
  await p.addInitScript(() => {
    const listeners = new Map<string, Set<(d: unknown) => void>>();
    const w = window as unknown as Record<string, unknown>;
    w.outpost = {
      call: (c: string, a: unknown) => (w.__outpostCall as (c: string, a: unknown) => Promise<unknown>)(c, a),
      on: (e: string, l: (d: unknown) => void) => {
        if (!listeners.has(e)) listeners.set(e, new Set());
        listeners.get(e)!.add(l);
        return () => listeners.get(e)!.delete(l);
      },
    };
    w.__outpostEmit = (e: string, d: unknown) => listeners.get(e)?.forEach((l) => l(d));
  });
  pages.add(p);
  await p.goto(`${base}/${page}.html`);
  return p;
}

describe('tray pages in headless Chromium', () => {
  it('dashboard: lists the containers, restarts one with its button, streams logs, highlights a search, shows hostile text as text', async () => {
    const page = await open('dashboard');
    try {
      const row = page.locator(`tr[data-name="${P}web"]`);
      await row.waitFor({ timeout: 10_000 });
      await expect.poll(() => page.locator(`tr[data-name="${P}broken"] td`).nth(1).textContent()).toBe('exited (3)');
      await expect.poll(() => page.locator('.node').first().textContent()).toMatch(/^local: \d+\/\d+ running · no rules agent$/);

      const before = (await node.inspect(`${P}web`)).startedAt ?? 0;
      await row.getByRole('button', { name: 'Restart' }).click();
      await eventually(async () => ((await node.inspect(`${P}web`)).startedAt ?? 0) > before, 15_000, 'restarted by the button');
      await expect.poll(() => page.locator('.message').textContent(), { timeout: 10_000 }).toBe(`restart ${P}web: done`);

      await row.locator('td.name').click();
      await expect.poll(() => page.locator('.lines .line').count(), { timeout: 10_000 }).toBeGreaterThan(5);
      const count = await page.locator('.lines .line').count();
      await expect.poll(() => page.locator('.lines .line').count(), { timeout: 5000 }).toBeGreaterThan(count); // still streaming
      // It follows: the newest line is in view.
      await expect.poll(() => page.locator('.lines').evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(40);
      await page.getByLabel('search logs').fill('/index\\.html \\d+/');
      await expect.poll(() => page.locator('.lines mark').count()).toBeGreaterThan(3);
      expect(await page.locator('.lines mark').first().textContent()).toMatch(/^index\.html \d+$/);

      // Hostile output and journal text are shown, not run.
      await expect.poll(() => page.locator('.lines').textContent()).toContain('<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>');
      expect(await page.locator('.lines img, .lines script, .journal b[onmouseover]').count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      await expect.poll(() => page.locator('.journal').textContent()).toContain(`gave up on ${P}broken <b onmouseover=alert(1)>3 restarts</b>`);
      await expect.poll(() => page.locator('.chart figcaption strong').first().textContent(), { timeout: 10_000 }).toMatch(/%$/);
      // Placed workloads, from their containers' labels; a hostile workload name is text.
      await expect.poll(() => page.locator('.workloads tbody tr').first().textContent()).toBe(`${P}api<script>window.__pwned=3</script>0localrunningyes`);
      expect(await page.locator('.workloads script').count()).toBe(0);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png') });
      expect((page as Page & { errors: string[] }).errors).toEqual([]);
    } finally {
      pages.delete(page);
      await page.close();
    }
  });

  it('dashboard: Start on a container failover fenced is refused and asks, naming the risk; Cancel leaves it, Start anyway starts it', async () => {
    const name = `${P}fenced-0`;
    const id = (await makeContainer(docker(), { name, cmd: 'sleep 3600', start: false })).id;
    writeFileSync(join(dir, 'state', 'outpost', PLACEMENT_STATE_FILE), JSON.stringify({ version: 1, self: 'local', failover: { fenced: { [id]: { workload: `${P}fenced`, replica: 0, atMs: 1, stopMs: 1, reason: 'cut off' } } }, specs: {} }));
    const running = async () => (await docker().getContainer(id).inspect()).State.Running;
    const page = await open('dashboard');
    try {
      const row = page.locator(`tr[data-name="${name}"]`);
      await row.waitFor({ timeout: 10_000 });
      await row.getByRole('button', { name: 'Start', exact: true }).click();
      const ask = page.getByRole('alertdialog', { name: 'fenced container' });
      await ask.waitFor({ timeout: 10_000 });
      expect(await ask.textContent()).toMatch(new RegExp(`${P}fenced replica 0 \\(container ${id.slice(0, 12)}\\) is fenced on local.*cut off from a majority.*Start ${name} anyway\\? It may run twice`));
      expect(await running()).toBe(false);
      await ask.getByRole('button', { name: 'Cancel' }).click();
      await expect.poll(() => ask.count()).toBe(0);
      expect(await running()).toBe(false);
      await row.getByRole('button', { name: 'Start', exact: true }).click();
      await ask.getByRole('button', { name: 'Start anyway' }).click();
      await eventually(running, 10_000, 'started with the override');
      await expect.poll(() => page.locator('.message').textContent(), { timeout: 10_000 }).toBe(`start ${name}: done`);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-fenced.png') });
      expect((page as Page & { errors: string[] }).errors).toEqual([]);
    } finally {
      pages.delete(page);
      await page.close();
    }
  });

  it('settings: rules file and its validation, notifications and start at login', async () => {
    const rulesDir = join(dir, 'config', 'outpost');
    mkdirSync(rulesDir, { recursive: true });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(rulesDir, 'rules.yaml'), 'rules:\n  - {name: web, when: {cpu: {above: lots}}, then: restart}\n');
    const page = await open('settings');
    try {
      await expect.poll(() => page.locator('.problems li').first().textContent(), { timeout: 10_000 }).toContain('rule 1 "web": when.cpu.above: expected the CPU percentage');
      writeFileSync(join(rulesDir, 'rules.yaml'), 'rules:\n  - {name: web, when: {unhealthy: 30s}, then: restart}\n');
      await page.getByRole('button', { name: 'Check again' }).click();
      await expect.poll(() => page.locator('p.ok').textContent()).toBe('Valid: 1 rule(s) (web).');
      // Controlled checkboxes change once the main process answered: click, then wait for both sides.
      await page.getByLabel('Start at login').click();
      await expect.poll(() => settings.startAtLogin).toBe(true);
      await expect.poll(() => page.getByLabel('Start at login').isChecked()).toBe(true);
      await page.getByLabel(/Notify me/).click();
      await expect.poll(() => settings.notifications).toBe(false);
      await expect.poll(() => page.getByLabel(/Notify me/).isChecked()).toBe(false);
      await page.screenshot({ path: join(ARTIFACTS, 'settings.png') });
      expect((page as Page & { errors: string[] }).errors).toEqual([]);
    } finally {
      pages.delete(page);
      await page.close();
    }
  });

  it('settings: adds a peer from its join code (fingerprint shown, confirmed, checked against the live agent), renames and removes it; bad input is named', async () => {
    const agent = await startTestAgent();
    const page = await open('settings');
    try {
      await expect.poll(() => page.locator('.peers').textContent(), { timeout: 10_000 }).toContain('No peers yet');
      // Hostile and malformed input: named, nothing written.
      await page.getByLabel('Join code or URL').fill('outpost1:not-base64!<script>window.__pwned=1</script>');
      await page.getByRole('button', { name: 'Check', exact: true }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^join code: /);
      await page.getByLabel('Join code or URL').fill('https://127.0.0.1:1/');
      await page.getByRole('button', { name: 'Check', exact: true }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^token: an agent peer needs its token/);
      expect(readPeers(peersEnv)).toEqual([]);
      // A join code whose token the agent does not take: refused at "Pin and add", nothing written.
      const wrong = encodeJoinCode({ url: agent.url, fingerprint: agent.identity.fingerprint, token: `op_${'A'.repeat(43)}` });
      await page.getByLabel('Join code or URL').fill(wrong);
      await page.getByLabel('Name').fill('gw-2');
      await page.getByRole('button', { name: 'Check', exact: true }).click();
      await page.getByRole('button', { name: 'Pin and add' }).click();
      await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/^token: the agent at https:\/\/127\.0\.0\.1:\d+ refused it/);
      expect(readPeers(peersEnv)).toEqual([]);

      const code = encodeJoinCode({ url: agent.url, fingerprint: agent.identity.fingerprint, token: agent.tokens.operator });
      await page.getByLabel('Join code or URL').fill(code);
      await page.getByLabel('Name').fill('gw-2');
      await page.getByRole('button', { name: 'Check', exact: true }).click();
      await expect.poll(() => page.locator('.fingerprint').textContent()).toBe(agent.identity.fingerprint);
      await page.screenshot({ path: join(ARTIFACTS, 'settings-add-peer.png') });
      await page.getByRole('button', { name: 'Pin and add' }).click();
      await expect.poll(() => page.locator('.peers p.ok').textContent(), { timeout: 10_000 }).toBe('Added gw-2.');
      expect(readPeers(peersEnv)).toEqual([{ name: 'gw-2', kind: 'agent', url: agent.url, fingerprint: agent.identity.fingerprint.replace(/:/g, '').toLowerCase() }]);
      expect(readTokens(peersEnv)).toEqual({ 'gw-2': agent.tokens.operator });
      // The fleet has it at once, and it comes online.
      expect(fleet.nodes().map((n) => n.name)).toEqual(['local', 'gw-2']);
      await expect.poll(() => page.locator('.peer-list tbody tr td').nth(4).textContent(), { timeout: 15_000 }).toBe('online');
      await page.screenshot({ path: join(ARTIFACTS, 'settings-peers.png') });

      await page.getByRole('button', { name: 'Rename' }).click();
      await page.getByLabel('New name for gw-2').fill('Line 3!');
      await page.getByRole('button', { name: 'Save' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^to: 1–63 characters/);
      await page.getByLabel('New name for gw-2').fill('line-3');
      await page.getByRole('button', { name: 'Save' }).click();
      await expect.poll(() => page.locator('.peer-list td.name').first().textContent()).toBe('line-3');
      expect(readTokens(peersEnv)).toEqual({ 'line-3': agent.tokens.operator });
      await expect.poll(() => fleet.nodes().map((n) => n.name)).toEqual(['local', 'line-3']);

      await page.getByRole('button', { name: 'Remove…' }).click();
      await page.getByRole('button', { name: 'Remove', exact: true }).click();
      await expect.poll(() => page.locator('.peers').textContent()).toContain('No peers yet');
      expect(readPeers(peersEnv)).toEqual([]);
      expect(readTokens(peersEnv)).toEqual({});
      expect(fleet.nodes().map((n) => n.name)).toEqual(['local']);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect((page as Page & { errors: string[] }).errors).toEqual([]);
    } finally {
      pages.delete(page);
      await page.close();
      await agent.close();
    }
  });
});
