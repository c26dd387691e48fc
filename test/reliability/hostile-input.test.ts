import { createHmac, randomUUID } from "node:crypto";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, inject, it } from "vitest";
import { z } from "zod";
import { MlflowClient } from "../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../connectors/mlflow/config.js";
import { WebhookReceiver } from "../../connectors/mlflow/webhook.js";
import { verifyBundle } from "../../src/bundle/verify.js";
import { readZip } from "../../src/bundle/zip-read.js";
import { writeZip } from "../../src/bundle/zip-write.js";
import { loadConfig, parseConfig } from "../../src/app/config/load.js";
import { unavailableFiles } from "../../src/delivery/engine/files.js";
import { SealgateError } from "../../src/core/errors.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import { compileMapping } from "../../src/delivery/mapping/compile.js";
import { verifyStore } from "../../src/evidence/verify/store.js";
import { verifyParts } from "../../src/app/store.js";
import { exportOf, sealedStore } from "../bundle/fixture.js";
import { FaultProxy } from "../support/fault-proxy.js";

/*
 * Hostile input: whatever arrives from a config file, a mapping, a webhook, an MLflow server
 * gone wrong, a damaged ledger or a doctored bundle, sealgate answers with a typed error (or a finding), never an
 * uncaught exception, a hang, or a write outside its own directories.
 */

const typed = (err: unknown) => {
  expect(err, String(err)).toBeInstanceOf(SealgateError);
  expect((err as SealgateError).code).toMatch(/^[A-Z_]+$/);
};
const attempt = async (fn: () => unknown) => {
  try {
    await fn();
  } catch (err) {
    typed(err);
  }
};
const json = fc.jsonValue({ maxDepth: 4 });
/** Objects shaped like a config, so the fuzzer reaches past the first missing key. */
const configish = fc.record(
  {
    mlflow: fc.oneof(json, fc.record({ trackingUri: fc.oneof(fc.webUrl(), fc.string()), auth: json })),
    store: fc.oneof(json, fc.record({ path: fc.string() })),
    policy: json,
    trust: json,
    sealing: fc.oneof(
      json,
      fc.record({
        key: fc.record({ type: fc.constantFrom("pem", "pkcs12", "x"), key: fc.string(), cert: fc.string() }),
      }),
    ),
    destinations: fc.oneof(
      json,
      fc.dictionary(
        fc.string(),
        fc.record({
          kind: fc.constantFrom("servicenow", "vanta", "archer", "x"),
          url: fc.string(),
          auth: json,
        }),
      ),
    ),
    daemon: json,
  },
  { requiredKeys: [] },
);

describe("hostile input gets a typed error, never a crash", () => {
  it("config loader: any document, any YAML text", async () => {
    fc.assert(
      fc.property(fc.oneof(json, configish), (raw) => void attempt(() => parseConfig(raw, "fuzz.yaml"))),
    );
    const dir = await mkdtemp(join(tmpdir(), "sealgate-fuzz-config-"));
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary" }), async (text) => {
        await writeFile(join(dir, "c.yaml"), text);
        await attempt(() => loadConfig(join(dir, "c.yaml")));
      }),
      { numRuns: 300 },
    );
    expect(await readdir(dir)).toEqual(["c.yaml"]);
  });

  it("mapping compiler: any mapping document", () => {
    const ctx = {
      destination: "fuzz",
      target: z.strictObject({ table: z.string() }),
      unavailable: unavailableFiles({}),
    };
    const mapping = fc.record(
      {
        target: fc.oneof(json, fc.record({ table: fc.string() })),
        fields: fc.oneof(
          json,
          fc.dictionary(
            fc.string(),
            fc.oneof(fc.string(), fc.stringMatching(/^\{\{[a-z.0-9 ]*\}\}$/), fc.record({ static: json })),
          ),
        ),
        attachments: fc.oneof(
          json,
          fc.array(fc.constantFrom("evidence.json", "record.pdf", "bundle.zip", "x", "record.jws")),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(json, mapping),
        (raw) => void attempt(() => compileMapping(raw, "fuzz.yaml", ctx)),
      ),
      { numRuns: 2000 },
    );
  });

  it("webhook receiver: any headers and body, signed or not", () => {
    const secret = "whsec-fuzz";
    const r = new WebhookReceiver({ secret });
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        json,
        fc.boolean(),
        fc.dictionary(fc.string(), fc.string()),
        (bytes, value, signIt, extra) => {
          const raw = Buffer.from(signIt ? JSON.stringify(value) : bytes);
          const id = randomUUID();
          const ts = String(Math.floor(Date.now() / 1000));
          const headers = signIt
            ? {
                ...extra,
                "x-mlflow-delivery-id": id,
                "x-mlflow-timestamp": ts,
                "x-mlflow-signature": `v1,${createHmac("sha256", secret).update(`${id}.${ts}.${raw.toString()}`).digest("base64")}`,
              }
            : extra;
          void attempt(() => r.receive({ headers, rawBody: raw }));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("MLflow response parsing: real answers corrupted on the way (truncated, bytes flipped, retyped)", async () => {
    const proxy = await new FaultProxy(inject("mlflow").url).start();
    const client = new MlflowClient(MlflowConfig.parse({ trackingUri: proxy.url, auth: { type: "none" } }), {
      http: { backoff: { retries: 0 } },
    });
    const corrupt = fc.oneof(
      fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % Math.max(1, b.length))),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, x]) => (b: Buffer) => {
        const c = Buffer.from(b);
        if (c.length) c[i % c.length]! ^= x;
        return c;
      }),
      json.map((v) => () => Buffer.from(JSON.stringify(v))),
      fc.constant((b: Buffer) =>
        Buffer.from(
          b
            .toString()
            .replace(/"[0-9]+"/g, "-1")
            .replace(/true/g, '"yes"'),
        ),
      ),
    );
    const calls = [
      () => client.modelVersion("credit-risk", "3"),
      () => client.registeredModel("credit-risk"),
      async () => {
        for await (const _ of client.modelVersions("name='churn'")) void _;
      },
      () =>
        client.run(
          (inject("mlflow").manifest.models["credit-risk"] as { versions: { run_id: string }[] }).versions[0]!
            .run_id,
        ),
    ];
    try {
      await fc.assert(
        fc.asyncProperty(corrupt, fc.nat(calls.length - 1), async (rewrite, which) => {
          proxy.clear();
          proxy.inject({ rewrite });
          await attempt(calls[which]!);
        }),
        { numRuns: 150 },
      );
    } finally {
      await client.close();
      await proxy.stop();
    }
  });

  it("bundle verifier: any JSON or bytes in a bundle's members give failed claims, never a crash", async () => {
    const s = await sealedStore();
    const base = await readZip(await exportOf(s, s.events.approved));
    const members = [...base.keys()].filter((k) => !k.endsWith(".pdf"));
    const content = fc.oneof(
      fc.jsonValue({ maxDepth: 6 }).map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
      fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
      // Deep arrays: refused by a ratio or depth limit with a reason, never a stack overflow.
      fc.nat(200_000).map((n) => Buffer.from("[".repeat(n) + "]".repeat(n))),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...members), content, async (member, bytes) => {
        const files = new Map(base).set(member, bytes);
        await attempt(async () => {
          const report = await verifyBundle(await writeZip(files), s.trust);
          expect(report.ok).toBe(false);
          const reasons = report.claims.flatMap((c) => c.findings.map((f) => f.message)).join(" ");
          expect(reasons).not.toMatch(/Maximum call stack|Missed detached/);
        });
      }),
      { numRuns: 60 },
    );
  });

  it("ledger reader: any bytes in the entries and checkpoints give findings, never a crash", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-fuzz-ledger-"));
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 4096 }),
        fc.uint8Array({ maxLength: 1024 }),
        async (entries, checkpoints) => {
          const root = await mkdtemp(join(dir, "s-"));
          const ledgerDir = join(root, "ledger");
          await (await FileLedger.open(ledgerDir)).close();
          await writeFile(join(ledgerDir, "entries.log"), entries);
          await writeFile(join(ledgerDir, "checkpoints.log"), checkpoints);
          await attempt(async () => {
            const report = await verifyStore(await verifyParts(root));
            expect(Array.isArray(report.findings)).toBe(true);
          });
          await attempt(async () => (await FileLedger.open(ledgerDir)).close());
        },
      ),
      { numRuns: 200 },
    );
  });
});
