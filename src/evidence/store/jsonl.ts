import { mkdir, open, readFile, truncate } from "node:fs/promises";
import { dirname } from "node:path";
import type { z } from "zod";
import { SealgateError } from "../../core/errors.js";

/*
 * Append-only JSON lines for delivery state and the store's indexes. Each append is fsynced
 * before it returns. A crash can tear only the last line: it is cut off on read (what it held
 * is simply redone, because every step writing these is safe to repeat). A bad line anywhere
 * else is corruption, except where the caller reads with `skipInvalid`.
 */

/**
 * Read every complete line; `repair` (writers only, under their lock) cuts a torn tail off.
 * `skipInvalid` is for caches written without a lock, where a torn line can end up mid-file.
 */
export async function readJsonl<T>(
  path: string,
  schema: z.ZodType<T>,
  opts: { repair?: boolean; skipInvalid?: boolean } = {},
): Promise<{ items: T[]; tornBytes: number }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return { items: [], tornBytes: 0 };
    throw new SealgateError("IO", `cannot read ${path}`, { cause: err });
  }
  const end = text.lastIndexOf("\n") + 1;
  const tornBytes = Buffer.byteLength(text.slice(end));
  const items: T[] = [];
  const lines = text.slice(0, end).split("\n").slice(0, -1);
  lines.forEach((line, i) => {
    let parsed: z.ZodSafeParseResult<T> | undefined;
    try {
      parsed = schema.safeParse(JSON.parse(line));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success && opts.skipInvalid) return;
    if (!parsed?.success)
      throw new SealgateError(
        "STATE_CORRUPT",
        `${path} line ${i + 1} is not a valid entry; move the file aside to rebuild delivery state (deliveries are re-checked remotely by correlation)`,
      );
    items.push(parsed.data);
  });
  if (tornBytes > 0 && opts.repair) await truncate(path, Buffer.byteLength(text.slice(0, end)));
  return { items, tornBytes };
}

/** Append lines, fsynced; after a torn tail, on a line of their own (never glued to it). */
export async function appendJsonl(path: string, items: readonly unknown[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const fh = await open(path, "a+", 0o644);
  try {
    const { size } = await fh.stat();
    const last = Buffer.alloc(1);
    if (size > 0) await fh.read(last, 0, 1, size - 1);
    const sep = size > 0 && last[0] !== 10 ? "\n" : "";
    await fh.write(sep + items.map((i) => `${JSON.stringify(i)}\n`).join(""));
    await fh.datasync();
  } finally {
    await fh.close();
  }
}
