import { fail, type Reply } from "./routes.js";

/** Cursor paging as Vanta does it: pageSize 1-100 (default 10), opaque pageCursor. */
export function page<T>(items: T[], query: URLSearchParams, toJson: (t: T) => unknown): Reply {
  const size = query.get("pageSize") ?? "10";
  if (!/^\d+$/.test(size) || Number(size) < 1 || Number(size) > 100) {
    return fail(400, "BadRequest", "pageSize must be an integer from 1 to 100");
  }
  const cursor = query.get("pageCursor");
  const start = cursor === null ? 0 : decodeCursor(cursor);
  if (start === null) return fail(400, "BadRequest", "pageCursor is invalid");
  const end = Math.min(items.length, start + Number(size));
  const data = items.slice(start, end).map(toJson);
  return {
    status: 200,
    json: {
      results: {
        data,
        pageInfo: {
          hasNextPage: end < items.length,
          hasPreviousPage: start > 0,
          startCursor: encodeCursor(start),
          endCursor: end < items.length ? encodeCursor(end) : null,
        },
      },
    },
  };
}

function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString("base64url");
}

function decodeCursor(cursor: string): number | null {
  try {
    const o = (JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { o?: unknown }).o;
    return Number.isInteger(o) && (o as number) >= 0 ? (o as number) : null;
  } catch {
    return null;
  }
}
