/*
 * Vanta documents have no external-id field, so the correlation (the record digest) lives in
 * the title as a fixed suffix: "credit-risk v3: approved [sha256:<64 hex>]". Only that exact
 * suffix counts; a digest quoted elsewhere in a title is never taken for a correlation.
 */

const SUFFIX = / \[(sha256:[0-9a-f]{64})\]$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Vanta's title limit is undocumented; keep titles readable and well under common limits. */
const MAX_TITLE = 255;

export function isCorrelation(value: string): boolean {
  return DIGEST.test(value);
}

/** The title carrying `correlation`; a long base is cut so the suffix always survives. */
export function titleFor(base: string, correlation: string): string {
  const suffix = ` [${correlation}]`;
  const room = MAX_TITLE - suffix.length;
  const clean = base.replace(/\s+/g, " ").trim();
  const cut = clean.length > room ? `${clean.slice(0, room - 1)}…` : clean;
  return `${cut}${suffix}`;
}

/** The correlation a title carries, or null when it is not one of sealgate's. */
export function correlationOf(title: string): string | null {
  return SUFFIX.exec(title)?.[1] ?? null;
}
