// Draws the tray icons (SVG rendered by headless Chromium) into assets/:
//   Linux:   tray-<state>.png and tray-<state>-dark.png (24 px; 48 px @2x)
//   macOS:   tray-<state>Template.png (16 px, @2x 32 px): black and alpha only, the system tints it
//   Windows: tray-<state>.ico (16, 24, 32, 48, 64 px PNG entries)
//   app:     icon.png (512 px), for the packager
// States: ok (all running), degraded (unhealthy/restarting), down (something down), unreachable (engine).
// Run: node scripts/make-icons.mjs (needs /usr/bin/chromium and playwright-core).
import { writeFile, mkdir } from 'node:fs/promises';
import { chromium } from 'playwright-core';

const COLORS = {
  light: { ok: '#1a7f37', degraded: '#bf8700', down: '#cf222e', unreachable: '#57606a' },
  dark: { ok: '#3fb950', degraded: '#e3b341', down: '#ff7b72', unreachable: '#8b949e' },
};

/** One glyph per state, so the state reads without colour too (template images, colour blindness). */
function glyph(state, fill) {
  const ring = `<circle cx="12" cy="12" r="9" fill="none" stroke="${fill}" stroke-width="2.6"/>`;
  switch (state) {
    case 'ok':
      return `<circle cx="12" cy="12" r="10" fill="${fill}"/>`;
    case 'degraded':
      return `${ring}<path d="M12 3 A9 9 0 0 1 12 21 Z" fill="${fill}"/>`;
    case 'down':
      return `${ring}<path d="M8 8 L16 16 M16 8 L8 16" stroke="${fill}" stroke-width="2.6" stroke-linecap="round"/>`;
    case 'unreachable':
      return `<circle cx="12" cy="12" r="9" fill="none" stroke="${fill}" stroke-width="2.6" stroke-dasharray="3.5 3"/><path d="M12 7 V13" stroke="${fill}" stroke-width="2.6" stroke-linecap="round"/><circle cx="12" cy="17" r="1.5" fill="${fill}"/>`;
  }
}

const svg = (body, size) => `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 24 24">${body}</svg>`;

function ico(pngs) {
  const header = Buffer.alloc(6 + 16 * pngs.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // icon
  header.writeUInt16LE(pngs.length, 4);
  let offset = header.length;
  pngs.forEach(({ size, data }, i) => {
    const e = 6 + 16 * i;
    header.writeUInt8(size >= 256 ? 0 : size, e);
    header.writeUInt8(size >= 256 ? 0 : size, e + 1);
    header.writeUInt16LE(1, e + 4); // planes
    header.writeUInt16LE(32, e + 6); // bits per pixel
    header.writeUInt32LE(data.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += data.length;
  });
  return Buffer.concat([header, ...pngs.map((p) => p.data)]);
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
async function render(body, size) {
  await page.setViewportSize({ width: size, height: size });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg(body, size)}</body></html>`);
  return page.locator('svg').screenshot({ omitBackground: true });
}

await mkdir('assets', { recursive: true });
for (const state of ['ok', 'degraded', 'down', 'unreachable']) {
  for (const [theme, suffix] of [['light', ''], ['dark', '-dark']]) {
    await writeFile(`assets/tray-${state}${suffix}.png`, await render(glyph(state, COLORS[theme][state]), 24));
    await writeFile(`assets/tray-${state}${suffix}@2x.png`, await render(glyph(state, COLORS[theme][state]), 48));
  }
  await writeFile(`assets/tray-${state}Template.png`, await render(glyph(state, '#000'), 16));
  await writeFile(`assets/tray-${state}Template@2x.png`, await render(glyph(state, '#000'), 32));
  const entries = [];
  for (const size of [16, 24, 32, 48, 64]) entries.push({ size, data: await render(glyph(state, COLORS.light[state]), size) });
  await writeFile(`assets/tray-${state}.ico`, ico(entries));
}
await writeFile(
  'assets/icon.png',
  await render(`<rect x="1" y="1" width="22" height="22" rx="5" fill="#0d1117"/><path d="M12 4 L19 18 H5 Z" fill="none" stroke="#3fb950" stroke-width="1.8" stroke-linejoin="round"/><circle cx="12" cy="13" r="2.2" fill="#3fb950"/>`, 512),
);
await browser.close();
console.log('icons written to assets/');
