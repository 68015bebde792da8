import { describe, expect, it } from 'vitest';
import { parseDuration, parseSince } from '../../core/model/duration.js';
import { formatAge, formatBytes, formatPercent, renderTable, truncate } from '../../tui/presentation/format.js';
import { inert } from '../../tui/presentation/inert.js';
import { formatPorts } from '../../tui/presentation/container-row.js';

describe('inert', () => {
  it('shows escape sequences as text that does nothing', () => {
    expect(inert('\x1b[2J\x1b[H')).toBe('\\x1b[2J\\x1b[H');
    expect(inert('\x1b]0;pwned\x07')).toBe('\\x1b]0;pwned\\x07');
    expect(inert('\x1b]52;c;aGk=\x07')).toBe('\\x1b]52;c;aGk=\\x07');
    expect(inert('a\rb\bc\x7f')).toBe('a\\x0db\\x08c\\x7f');
    expect(inert('\u009b31m')).toBe('\\x9b31m');
    expect(inert('abc\u202edef')).toBe('abc\\u202edef');
  });
  it('leaves ordinary text alone and expands tabs', () => {
    expect(inert('héllo wörld ✓ 日本')).toBe('héllo wörld ✓ 日本');
    expect(inert('a\tb', 2)).toBe('a  b');
  });
  it('never lets an ESC byte through, whatever the input', () => {
    let s = '';
    for (let i = 0; i < 0x250; i++) s += String.fromCharCode(i);
    const out = inert(s);
    expect(/[\u0000-\u001f\u007f-\u009f]/.test(out)).toBe(false);
  });
});

describe('format', () => {
  it('formats bytes, percents and ages', () => {
    expect(formatBytes(0)).toBe('0B');
    expect(formatBytes(1536)).toBe('1.50KiB');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300MiB');
    expect(formatBytes(-1)).toBe('-');
    expect(formatPercent(12.345)).toBe('12.3%');
    expect(formatPercent(250)).toBe('250%');
    expect(formatAge(59_000)).toBe('59s');
    expect(formatAge(3 * 3600_000)).toBe('3h');
    expect(formatAge(3 * 86400_000)).toBe('3d');
  });
  it('truncates with an ellipsis and lays out tables', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    const t = renderTable([{ a: 'x', n: 5 }, { a: 'longer', n: 100 }], [
      { header: 'NAME', value: (r) => r.a },
      { header: 'N', value: (r) => String(r.n), right: true },
    ]);
    expect(t).toBe('NAME       N\nx          5\nlonger   100');
  });
  it('formats ports like docker ps', () => {
    expect(formatPorts([{ privatePort: 80, publicPort: 8080, ip: '0.0.0.0', protocol: 'tcp' }, { privatePort: 53, protocol: 'udp' }])).toBe('0.0.0.0:8080->80/tcp, 53/udp');
  });
});

describe('durations', () => {
  it('parses units and compounds', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
  });
  it('rejects bare numbers and junk', () => {
    for (const bad of ['10', '', 'm', '5 m', '-5s', '1y', '1e9s']) expect(() => parseDuration(bad)).toThrow(/not a duration/);
  });
  it('parses --since forms', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    expect(parseSince('10m', now)).toBe(now - 600_000);
    expect(parseSince('2024-05-01T10:00:00Z', now)).toBe(Date.parse('2024-05-01T10:00:00Z'));
    expect(parseSince('1714560000', now)).toBe(1714560000_000);
    expect(() => parseSince('yesterday', now)).toThrow(/neither a duration/);
    expect(() => parseSince('2024-13-45T99:00:00Z', now)).toThrow(/not a valid date/);
  });
});

describe('ps -w', () => {
  it('cuts no column: a 48-character name and a long compose project stay whole (they were cut at 32 and 20)', async () => {
    const { psColumns } = await import('../../tui/presentation/container-row.js');
    const { summary } = await import('../harness/summary.js');
    const c = summary({ name: 'modbus-gateway-line3-telemetry-collector-primary', composeProject: 'factory-floor-telemetry-north-wing' });
    const wide = renderTable([c], psColumns(Date.now(), true));
    expect(wide).toContain('modbus-gateway-line3-telemetry-collector-primary');
    expect(wide).toContain('factory-floor-telemetry-north-wing');
    const narrow = renderTable([c], psColumns(Date.now(), false));
    expect(narrow).not.toContain('modbus-gateway-line3-telemetry-collector-primary');
  });
});
