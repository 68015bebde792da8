/**
 * The plain forms of `outpost ps` that the start file answers itself
 * (fast-ps.ts). Kept apart, with no imports, so that the start file can read
 * its arguments before anything else loads (early-request.ts).
 */
export interface FastPsOptions {
  all: boolean;
  json: boolean;
  quiet: boolean;
  wide: boolean;
}

const FLAGS: Record<string, keyof FastPsOptions> = { '-a': 'all', '--all': 'all', '--json': 'json', '-q': 'quiet', '--quiet': 'quiet', '-w': 'wide', '--wide': 'wide' };

/** The options of a plain `outpost ps …`, or null for anything this path leaves to the full CLI. */
export function fastPsArgs(args: readonly string[]): FastPsOptions | null {
  if (args[0] !== 'ps') return null;
  const o: FastPsOptions = { all: false, json: false, quiet: false, wide: false };
  for (const a of args.slice(1)) {
    const key = Object.hasOwn(FLAGS, a) ? FLAGS[a] : undefined;
    if (key === undefined) return null;
    o[key] = true;
  }
  return o;
}
