/**
 * The placement table for a terminal and the shape of `--json`. Node names,
 * labels and reasons come from peers: every text goes through `inert`, the
 * sanitiser the CLI's terminal sinks use, so a hostile node name cannot move
 * the cursor or retitle the terminal.
 */
import stringWidth from 'string-width';
import { inert } from '../../tui/presentation/inert.js';
import type { NodeVerdict, Placement } from './engine.js';
import type { Workload } from './spec.js';

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - stringWidth(text)));
}

function verdictCell(v: NodeVerdict): string {
  return v.fits ? `fits ${v.shown}` : 'rejected';
}

/** The reason column: what follows "rejected: " or the score's parts. */
function reasonCell(v: NodeVerdict): string {
  return v.text.replace(/^rejected: /, '');
}

/**
 * The summary line (when some replica could not be placed), then one row per
 * node: NODE, VERDICT (fits and its score, or rejected), REPLICAS (this
 * workload's replicas there, with those this decision adds), REASON. Lines
 * end with a newline.
 */
export function formatPlacement(placement: Placement, workload?: Pick<Workload, 'name' | 'replicas'>): string {
  const rows = placement.verdicts.map((v) => ({
    node: inert(v.node),
    verdict: verdictCell(v),
    replicas: v.placed > 0 ? `${v.replicas} (+${v.placed})` : String(v.replicas),
    reason: inert(reasonCell(v)),
  }));
  const head = { node: 'NODE', verdict: 'VERDICT', replicas: 'REPLICAS', reason: 'REASON' };
  const width = (k: 'node' | 'verdict' | 'replicas') => Math.max(stringWidth(head[k]), ...rows.map((r) => stringWidth(r[k])));
  const w = { node: width('node'), verdict: width('verdict'), replicas: width('replicas') };
  const line = (r: typeof head) => `${pad(r.node, w.node)}  ${pad(r.verdict, w.verdict)}  ${pad(r.replicas, w.replicas)}  ${r.reason}`.trimEnd();
  const out: string[] = [];
  if (placement.summary) out.push(inert(placement.summary));
  else if (workload) {
    out.push(inert(`${workload.name}: ${placement.chosen.length === 1 ? `on ${placement.chosen[0]}` : `${placement.chosen.length} replicas on ${placement.chosen.join(', ')}`}`));
  }
  out.push(line(head), ...rows.map(line));
  return `${out.join('\n')}\n`;
}

/** What `outpost place --json` prints: plain data, the numbers unrounded beside the shown ones. */
export interface PlacementJson {
  workload: string | null;
  chosen: string[];
  summary: string | null;
  nodes: {
    node: string;
    fits: boolean;
    score: number;
    shown: number;
    replicas: number;
    placed: number;
    text: string;
    reasons: string[];
    rejections: { kind: string; text: string }[];
    parts: NodeVerdict['parts'];
  }[];
}

export function placementJson(placement: Placement, workload?: Pick<Workload, 'name'>): PlacementJson {
  return {
    workload: workload?.name ?? null,
    chosen: [...placement.chosen],
    summary: placement.summary,
    nodes: placement.verdicts.map((v) => ({
      node: v.node,
      fits: v.fits,
      score: v.score,
      shown: v.shown,
      replicas: v.replicas,
      placed: v.placed,
      text: v.text,
      reasons: [...v.reasons],
      rejections: v.rejections.map((r) => ({ kind: r.kind, text: r.text })),
      parts: v.parts,
    })),
  };
}
