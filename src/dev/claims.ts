/*
 * The demo's request texts make claims about metrics ("precision rises from 0.91 to 0.94"), and
 * the sealed record shows the numbers beside them. A compliance officer reading both must find
 * every claim true, so the demo reads its claims back out of each sealed record and checks them
 * against that record's own comparison. Claims follow one small grammar; any mention of a
 * recorded metric outside it is refused, so a new text cannot slip an unchecked claim past.
 */

export interface MetricComparison {
  candidate: Record<string, number>;
  challenger: Record<string, number>;
  delta: Record<string, number>;
}

export type Direction = "up" | "down" | "same";

export interface MetricClaim {
  metric: string;
  direction: Direction;
  /** Stated values as written ("0.91"), compared at the precision they are written with. */
  from?: string;
  to?: string;
}

const VERBS: Record<string, Direction> = {
  rises: "up",
  increases: "up",
  falls: "down",
  drops: "down",
  decreases: "down",
  holds: "same",
  "is unchanged": "same",
};
const NUM = String.raw`(\d+(?:\.\d+)?)`;
const CLAIM = new RegExp(
  String.raw`^\s+(${Object.keys(VERBS).join("|")})(?:\s+from\s+${NUM}\s+to\s+${NUM}|\s+at\s+${NUM})?(?!\w|\.\d)`,
  "i",
);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Every claim `text` makes about the metrics named in `metrics`: "<metric> rises|increases|
 * falls|drops|decreases|holds|is unchanged [from A to B | at A]". Throws on a mention
 * of one of those metrics that is not such a claim.
 */
export function parseMetricClaims(text: string, metrics: string[]): MetricClaim[] {
  if (metrics.length === 0) return [];
  const names = [...metrics].sort((a, b) => b.length - a.length).map(escape);
  const mention = new RegExp(String.raw`(?<![\w-])(${names.join("|")})(?![\w-])`, "gi");
  const hits = [...text.matchAll(mention)];
  return hits.map((hit, i) => {
    const metric = metrics.find((m) => m.toLowerCase() === hit[1]!.toLowerCase())!;
    const start = hit.index + hit[0].length;
    const rest = text.slice(start, hits[i + 1]?.index ?? text.length);
    const m = CLAIM.exec(rest);
    if (!m)
      throw new Error(
        `request text mentions ${metric} without a checkable claim ("${text.slice(hit.index, start + 30).trim()}…"); write "${metric} rises|falls|holds [from A to B | at A]"`,
      );
    const direction = VERBS[m[1]!.toLowerCase()]!;
    const [from, to] = m[4] ? [m[4], m[4]] : [m[2], m[3]];
    return { metric, direction, ...(from ? { from } : {}), ...(to ? { to } : {}) };
  });
}

/** Whether `value` is what `written` says, at the number of decimals it is written with. */
const matches = (written: string, value: number) =>
  Math.abs(value - Number(written)) <= 0.5 * 10 ** -(written.split(".")[1]?.length ?? 0) + 1e-12;

const actual = (delta: number): Direction => (Math.abs(delta) < 1e-9 ? "same" : delta > 0 ? "up" : "down");

/** Every way `text` contradicts the comparison it is sealed with; empty when every claim holds. */
export function contradictions(text: string, c: MetricComparison): string[] {
  const metrics = [...new Set([...Object.keys(c.candidate), ...Object.keys(c.challenger)])];
  const found: string[] = [];
  for (const claim of parseMetricClaims(text, metrics)) {
    const delta = c.delta[claim.metric];
    if (delta === undefined) {
      found.push(`${claim.metric}: claimed to change, but the comparison has no ${claim.metric} for both`);
      continue;
    }
    const was = c.challenger[claim.metric]!;
    const now = c.candidate[claim.metric]!;
    if (actual(delta) !== claim.direction)
      found.push(`${claim.metric}: text says ${claim.direction}, record says ${was} -> ${now}`);
    if (claim.from !== undefined && !matches(claim.from, was))
      found.push(`${claim.metric}: text says it was ${claim.from}, record says ${was}`);
    if (claim.to !== undefined && !matches(claim.to, now))
      found.push(`${claim.metric}: text says it is ${claim.to}, record says ${now}`);
  }
  return found;
}
