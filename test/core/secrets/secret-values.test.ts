import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { beforeEach, describe, expect, it } from "vitest";
import { resolveSecret } from "../../../src/core/secrets.js";
import { HttpStatusError, readErrorBody } from "../../../src/core/http/errors.js";
import { createLogger } from "../../../src/core/log.js";
import { Transition } from "../../../src/delivery/outbox/state.js";
import {
  forgetSecrets,
  registerAuthorization,
  registerSecret,
  scrub,
} from "../../../src/core/util/secret-values.js";
import { leakForms } from "./echo.js";

/*
 * Redaction by value, layer by layer: every encoding of a registered secret is scrubbed, short
 * values are not registered, and each exit (HTTP error, log line, outbox transition, the CLI's
 * stdout and stderr) scrubs what it passes on, so no layer relies on another having done so.
 */

const fresh = () => `pw-${randomBytes(10).toString("hex")}+/&="é %`;
const core = (s: string) => /-([0-9a-f]{20})/.exec(s)![1]!;

beforeEach(() => forgetSecrets());

describe("scrub", () => {
  it("removes a secret in every encoding, including base64 of user:secret at every alignment", () => {
    const secret = fresh();
    registerSecret(secret);
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const forms = [
      ...leakForms(secret),
      JSON.stringify(JSON.stringify(secret)),
      JSON.stringify(secret).replace(/é/, "\\u00e9"),
      encodeURIComponent(secret).toLowerCase(),
      ...["u:", "us:", "usr:"].flatMap((user) => [
        b64(`${user}${secret}`),
        b64(`${user}${secret}`).replace(/\+/g, "-").replace(/\//g, "_"),
        b64(`${user}${secret}and more bytes after it`),
      ]),
    ];
    for (const form of forms) {
      const out = scrub(`before ${form} after`);
      expect(out, form).toContain("[REDACTED]");
      expect(out, form).not.toContain(core(secret));
      for (const f of leakForms(secret)) expect(out, form).not.toContain(f);
    }
  });

  it("keeps JSON log lines valid: a base64 form right after an escape is cut, the escape is not", () => {
    const secret = fresh();
    registerSecret(secret);
    for (const user of ["", "u:", "us:"]) {
      const b64 = Buffer.from(`${user}${secret}`).toString("base64");
      for (const before of ["\n", "\u00e9", "\t", " "]) {
        const line = JSON.stringify({ msg: `${before}${b64}` });
        const out = scrub(line);
        expect(out, `${user} ${JSON.stringify(before)}`).toContain("[REDACTED]");
        expect(() => JSON.parse(out), out).not.toThrow();
      }
    }
  });

  it("does not register values shorter than 4 characters, and leaves other text alone", () => {
    registerSecret("abc");
    expect(scrub("abc abcd")).toBe("abc abcd");
    registerSecret("abcd");
    expect(scrub("abc abcd")).toBe("abc [REDACTED]");
  });

  it("registers the credential of an Authorization header: Bearer, Archer session, Basic password", () => {
    registerAuthorization("Bearer tok-0123456789");
    registerAuthorization('Archer session-id="S3SS10N-ID"');
    registerAuthorization(`Basic ${Buffer.from("someone:hunter2-pass").toString("base64")}`);
    expect(scrub("tok-0123456789 | S3SS10N-ID | hunter2-pass")).toBe("[REDACTED] | [REDACTED] | [REDACTED]");
  });

  it("keeps only the most recent minted tokens, but never evicts one still in use", () => {
    registerSecret("kept-token-0000", { ephemeral: true });
    for (let i = 0; i < 100; i++) {
      registerSecret(`minted-token-${i}`, { ephemeral: true });
      registerSecret("kept-token-0000", { ephemeral: true });
    }
    expect(scrub("minted-token-0 minted-token-99 kept-token-0000")).toBe(
      "minted-token-0 [REDACTED] [REDACTED]",
    );
  });
});

describe("every exit scrubs", () => {
  it("resolveSecret registers what it resolves, from env and from files", async () => {
    const fromEnv = fresh();
    const fromFile = fresh();
    const file = join(await mkdtemp(join(tmpdir(), "sealgate-secret-")), "s");
    await writeFile(file, `${fromFile}\n`);
    resolveSecret("${SG_TEST_SECRET}", "x.password", { SG_TEST_SECRET: fromEnv });
    resolveSecret(`file:${file}`, "x.password", {});
    expect(scrub(`${fromEnv} ${fromFile}`)).toBe("[REDACTED] [REDACTED]");
  });

  it("HTTP errors, even when the body is clipped in the middle of the secret", () => {
    const secret = fresh();
    registerSecret(secret);
    const clipped = new HttpStatusError({
      status: 400,
      method: "GET",
      url: "http://h/x",
      remote: readErrorBody(`${"x".repeat(490)}${secret}`, "text/plain"),
    });
    expect(clipped.message).not.toContain(secret.slice(0, 10));
    expect(clipped.remote.message).not.toContain(secret.slice(0, 10));
    const err = new HttpStatusError({
      status: 400,
      method: "POST",
      url: "http://h/x",
      remote: { code: "E", message: `you sent ${secret}` },
    });
    expect(err.message).toBe("POST http://h/x answered 400 E: you sent [REDACTED]");
    expect(err.remote.message).toBe("you sent [REDACTED]");
    // Escaped character by character, the secret is only whole once the body is read: the scrub comes after.
    const escaped = [...secret].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
    const echoed = new HttpStatusError({
      status: 400,
      method: "GET",
      url: `http://h/x/${secret}`,
      remote: { ...readErrorBody(`{"message":"${escaped}"}`, "application/json"), code: secret },
    });
    expect(echoed.message).toBe("GET http://h/x/[REDACTED] answered 400 [REDACTED]: [REDACTED]");
    expect(echoed.url).toBe("http://h/x/[REDACTED]");
    expect(echoed.remote).toEqual({ code: "[REDACTED]", message: "[REDACTED]" });
  });

  it("log lines, whatever field or message holds the value", () => {
    const secret = fresh();
    registerSecret(secret);
    const lines: string[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
    const log = createLogger({ level: "info", destination: sink });
    log.warn({ detail: `remote said ${secret}` }, `failed: ${secret}`);
    log.error({ err: new Error(`echo ${secret}`) }, "boom");
    const text = lines.join("");
    expect(text).toContain("[REDACTED]");
    expect(text).not.toContain(core(secret));
  });

  it("outbox transitions as written and read", () => {
    const secret = fresh();
    registerSecret(secret);
    const t = Transition.parse({
      to: "dead",
      record: `sha256:${"a".repeat(64)}`,
      at: new Date().toISOString(),
      attempts: 3,
      error: `403: authorization: Basic ${Buffer.from(`u:${secret}`).toString("base64")}`,
    });
    expect(t.to === "dead" && t.error).toMatch(/^403: authorization: Basic \S*\[REDACTED\]$/);
  });

  it("the CLI's stdout and stderr", () => {
    const secret = fresh();
    const script = [
      `import { registerSecret } from "./dist/src/core/util/secret-values.js";`,
      `import { processIO } from "./dist/src/cli/io.js";`,
      `registerSecret(process.env.S);`,
      `processIO().out("out " + process.env.S + "\\n");`,
      `processIO().err("err " + encodeURIComponent(process.env.S) + "\\n");`,
    ].join("\n");
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: join(import.meta.dirname, "../../.."),
      env: { ...process.env, S: secret },
      encoding: "utf8",
    });
    expect(r.stderr).toBe("err [REDACTED]\n");
    expect(r.stdout).toBe("out [REDACTED]\n");
  });
});
