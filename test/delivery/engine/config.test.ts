import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { ConnectorModule } from "../../../connectors/sdk/connector.js";
import {
  connectorSecretPaths,
  destinationsSchema,
  loadDestinations,
} from "../../../src/app/config/destinations.js";
import { formatIssues } from "../../../src/core/zod-issues.js";
import { resolveSecret, SecretRef } from "../../../src/core/secrets.js";
import { createLogger } from "../../../src/core/log.js";
import { FileDestination } from "../../support/file-destination.mjs";

const fake: ConnectorModule<{ url: string; auth: { password: string } }, { folder: string }> = {
  kind: "fake",
  config: z.strictObject({ url: z.url(), auth: z.strictObject({ password: SecretRef }) }),
  target: z.strictObject({ folder: z.string() }),
  secretPaths: ["auth.password"],
  defaultMappingPath: "/nonexistent/default.yaml",
  queueDefaults: { concurrency: 2, perMinute: 60 },
  create: (name) => new FileDestination(name, "/tmp/unused"),
};
const schema = destinationsSchema({ fake });

describe("the destinations config section", () => {
  it("takes queue defaults from the connector and maxAttempts from one place", () => {
    const d = schema.parse({
      prod: { kind: "fake", url: "https://grc.example.com", auth: { password: "${PW}" } },
    });
    expect(d.prod).toEqual({
      kind: "fake",
      mapping: undefined,
      queue: { concurrency: 2, perMinute: 60 },
      maxAttempts: 10,
      config: { url: "https://grc.example.com", auth: { password: "${PW}" } },
    });
    expect(
      schema.parse({
        p: { kind: "fake", url: "https://x.example", auth: { password: "${P}" }, queue: { perMinute: 5 } },
      }).p!.queue,
    ).toEqual({ concurrency: 2, perMinute: 5 });
  });

  it("names the full path of a bad connector setting, and unknown kinds", () => {
    const bad = schema.safeParse({ prod: { kind: "fake", url: "not a url", auth: { password: "hunter2" } } });
    const text = formatIssues(bad.error!.issues);
    expect(text).toContain("prod.url:");
    expect(text).toContain("prod.auth.password: secrets are references");
    expect(text).not.toContain("hunter2");
    const kind = schema.safeParse({ x: { kind: "sharepoint" } });
    expect(formatIssues(kind.error!.issues)).toContain(
      'x.kind: unknown destination kind "sharepoint"; use one of: fake',
    );
  });

  it("compiles each mapping relative to the config file at load, naming the destination on error", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-dests-"));
    await writeFile(join(dir, "m.yaml"), "target: { folder: f }\nfields: { t: '{{record.model.name}}' }\n");
    await writeFile(join(dir, "bad.yaml"), "target: { folder: f }\nfields: { t: '{{record.modle}}' }\n");
    const parsed = schema.parse({
      good: { kind: "fake", url: "https://x.example", auth: { password: "${P}" }, mapping: "m.yaml" },
    });
    const opts = {
      configPath: join(dir, "sealgate.yaml"),
      connectors: { fake },
      logger: createLogger({ level: "silent" }),
    };
    const [t] = await loadDestinations(parsed, opts);
    expect(t).toMatchObject({ name: "good", queue: { concurrency: 2, perMinute: 60 }, maxAttempts: 10 });
    expect(t!.mapping.fieldNames).toEqual(["t"]);
    const broken = schema.parse({
      b: { kind: "fake", url: "https://x.example", auth: { password: "${P}" }, mapping: "bad.yaml" },
    });
    await expect(loadDestinations(broken, opts)).rejects.toThrow(
      /destination b: mapping .*bad.yaml is invalid:\n {2}fields.t: record.modle is not a field/,
    );
  });

  it("names the destination and its kind when its connector cannot read a secret", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-dests-"));
    await writeFile(join(dir, "m.yaml"), "target: { folder: f }\nfields: { t: '{{record.model.name}}' }\n");
    // Like the ServiceNow connector: the secret is read when the destination is created.
    const eager: typeof fake = {
      ...fake,
      create: (name, c) => {
        resolveSecret(c.auth.password, "auth.password", {});
        return new FileDestination(name, "/tmp/unused");
      },
    };
    const parsed = destinationsSchema({ fake: eager }).parse({
      "grc-eu": {
        kind: "fake",
        url: "https://x.example",
        auth: { password: "${GRC_EU_PW}" },
        mapping: "m.yaml",
      },
    });
    const opts = {
      configPath: join(dir, "sealgate.yaml"),
      connectors: { fake: eager },
      logger: createLogger({ level: "silent" }),
    };
    await expect(loadDestinations(parsed, opts)).rejects.toMatchObject({
      code: "SECRET_UNRESOLVED",
      message:
        "destination grc-eu (fake): auth.password: environment variable GRC_EU_PW is not set; export it",
    });
  });

  it("redacts every connector's declared secret paths in logs", () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
    const logger = createLogger({
      level: "info",
      destination: sink,
      secretPaths: connectorSecretPaths({ fake }),
    });
    logger.info({ config: { auth: { password: "s3cret-value" } } }, "starting");
    logger.info({ auth: { password: "s3cret-value" } }, "starting");
    expect(lines.join("")).not.toContain("s3cret-value");
    expect(lines.join("")).toContain("[REDACTED]");
  });
});
