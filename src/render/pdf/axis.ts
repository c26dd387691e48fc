/*
 * The numbers a bar chart writes: its values as the table writes them, and axis ticks that
 * include zero and every value. Pure arithmetic, so the tests can try any value.
 */

/** A chart value as the table writes it: integers exactly, fractions to six significant digits. */
export const formatValue = (n: number) =>
  Number.isInteger(n) && Math.abs(n) < 1e21 ? String(n) : String(Number(n.toPrecision(6)));

/** A tick: three significant digits, in exponent form when long. */
export const tickLabel = (t: number) => {
  const r = Number(t.toPrecision(3));
  return r !== 0 && (Math.abs(r) >= 1e6 || Math.abs(r) < 1e-4) ? r.toExponential() : String(r);
};

/**
 * Axis ticks that include 0 and every value: at most five steps of 1, 2, 2.5 or 5 times a power
 * of ten, from the last tick at or below the smallest value to the first at or above the largest.
 */
export function axisTicks(values: number[]): number[] {
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  if (lo === hi) return [0, 1];
  const raw = (hi - lo) / 4;
  // Below this a power of ten is not a double: the axis is just its two ends.
  if (raw < 1e-300) return [...new Set([lo, 0, hi])];
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw * (1 - 1e-12))!;
  const tick = (i: number) => Number((i * step).toPrecision(12));
  let first = Math.floor(lo / step);
  let last = Math.ceil(hi / step);
  // Rounded to twelve digits, an end tick can land just inside a value: one step further out.
  if (tick(first) > lo) first--;
  if (tick(last) < hi) last++;
  return Array.from({ length: last - first + 1 }, (_, i) => tick(first + i));
}
