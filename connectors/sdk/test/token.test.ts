import { describe, expect, it } from "vitest";
import { type Minted, SharedToken } from "../token.js";
import { HttpStatusError } from "../../../src/core/http/errors.js";

/** A login that counts its calls and answers token-1, token-2, … valid for `lifeMs`. */
function counter(opts: { lifeMs?: number; now?: () => number; gate?: Promise<void> } = {}) {
  const calls: (string | null)[] = [];
  const login = async (previous: string | null): Promise<Minted<string>> => {
    calls.push(previous);
    await (opts.gate ?? Promise.resolve());
    return { token: `token-${calls.length}`, renewAt: (opts.now?.() ?? 0) + (opts.lifeMs ?? Infinity) };
  };
  return { calls, login };
}

const unauthorized = () =>
  new HttpStatusError({ status: 401, method: "GET", url: "https://x.test/a", remote: { message: "no" } });

describe("SharedToken", () => {
  it("lets concurrent callers share one login", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { calls, login } = counter({ gate });
    const shared = new SharedToken(login);
    const waiting = Array.from({ length: 10 }, () => shared.current());
    open();
    expect(await Promise.all(waiting)).toEqual(Array(10).fill("token-1"));
    expect(calls).toEqual([null]);
  });

  it("renews once the token reaches its renewal time, handing login the old token", async () => {
    let now = 0;
    const { calls, login } = counter({ lifeMs: 1000, now: () => now });
    const shared = new SharedToken(login, () => now);
    expect(await shared.current()).toBe("token-1");
    now = 999;
    expect(await shared.current()).toBe("token-1");
    now = 1000;
    expect(await shared.current()).toBe("token-2");
    expect(calls).toEqual([null, "token-1"]);
  });

  it("after a 401 sends exactly once more, with a fresh token", async () => {
    const { calls, login } = counter();
    const shared = new SharedToken(login);
    const sent: string[] = [];
    const result = await shared.send(async (token) => {
      sent.push(token);
      if (token === "token-1") throw unauthorized();
      return "ok";
    });
    expect(result).toBe("ok");
    expect(sent).toEqual(["token-1", "token-2"]);
    expect(calls).toEqual([null, "token-1"]);
  });

  it("surfaces a second 401 without a third try", async () => {
    const { calls, login } = counter();
    const shared = new SharedToken(login);
    let sends = 0;
    const failing = shared.send(async () => {
      sends++;
      throw unauthorized();
    });
    await expect(failing).rejects.toMatchObject({ status: 401 });
    expect(sends).toBe(2);
    expect(calls).toHaveLength(2);
  });

  it("does not retry other failures", async () => {
    const shared = new SharedToken(counter().login);
    let sends = 0;
    const failing = shared.send(async () => {
      sends++;
      throw new Error("connection reset");
    });
    await expect(failing).rejects.toThrow("connection reset");
    expect(sends).toBe(1);
  });

  it("logs in once when many callers hit a 401 with the same token", async () => {
    const { calls, login } = counter();
    const shared = new SharedToken(login);
    await shared.current();
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        shared.send(async (token) => {
          if (token === "token-1") throw unauthorized();
          return token;
        }),
      ),
    );
    expect(results).toEqual(Array(8).fill("token-2"));
    expect(calls).toEqual([null, "token-1"]);
  });

  it("a failed login leaves no token behind: the next caller logs in again", async () => {
    let fail = true;
    const shared = new SharedToken(async () => {
      if (fail) throw new Error("login refused");
      return { token: "t", renewAt: Infinity };
    });
    await expect(shared.current()).rejects.toThrow("login refused");
    fail = false;
    expect(await shared.current()).toBe("t");
  });
});
