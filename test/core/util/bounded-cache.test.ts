import { describe, expect, it } from "vitest";
import { BoundedCache } from "../../../src/core/util/bounded-cache.js";

describe("BoundedCache", () => {
  it("computes a key once while it is held, undefined values included", () => {
    const cache = new BoundedCache<string, number | undefined>(10);
    let calls = 0;
    const compute = (k: string) => (calls++, k === "none" ? undefined : k.length);
    expect(cache.get("abc", compute)).toBe(3);
    expect(cache.get("abc", compute)).toBe(3);
    expect(cache.get("none", compute)).toBeUndefined();
    expect(cache.get("none", compute)).toBeUndefined();
    expect(calls).toBe(2);
  });

  it("forgets everything once it holds its limit, so it never grows past it", () => {
    const cache = new BoundedCache<number, number>(3);
    let calls = 0;
    const compute = (k: number) => (calls++, k * 2);
    for (const k of [1, 2, 3]) cache.get(k, compute);
    cache.get(1, compute); // still held
    expect(calls).toBe(3);
    cache.get(4, compute); // the fourth key clears the first three
    cache.get(1, compute);
    expect(calls).toBe(5);
  });

  it("computes again after delete", () => {
    const cache = new BoundedCache<string, string>(5);
    let calls = 0;
    cache.get("a", () => `${++calls}`);
    cache.delete("a");
    expect(cache.get("a", () => `${++calls}`)).toBe("2");
  });
});
