import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArcherError } from "../../connectors/archer/errors.js";
import { MlflowError } from "../../connectors/mlflow/errors.js";
import { ServiceNowError } from "../../connectors/servicenow/errors.js";
import { VantaError } from "../../connectors/vanta/errors.js";
import { exitCodeOf, SealgateError } from "../../src/core/errors.js";
import { readStore } from "../../src/app/store.js";

/*
 * connectors/index.ts promises that adding a destination is one folder plus one line. This
 * test keeps that promise honest by doing it: in a copy of the runtime tree it copies the
 * reference connector to connectors/acme/ (as a new destination would start), adds it to a copy
 * of connectors/index.ts, and then, without touching anything else, sealgate's own config
 * parser accepts `kind: acme` (schema and secret redaction come from the module) and the
 * delivery engine delivers sealed records to acme's simulator.
 */

const REPO = join(import.meta.dirname, "../..");
const KIND = "acme";

let tree: string;

beforeAll(async () => {
  tree = await mkdtemp(join(tmpdir(), "sealgate-new-destination-"));
  const notTests = (src: string) => !/\/test(\/|$)|\.test\.ts$/.test(relative(REPO, src));
  for (const dir of ["src", "connectors", "test/support"]) {
    await cp(join(REPO, dir), join(tree, dir), {
      recursive: true,
      filter: (s) => dir === "test/support" || notTests(s),
    });
  }
  await cp(join(REPO, "package.json"), join(tree, "package.json"));
  await symlink(join(REPO, "node_modules"), join(tree, "node_modules"));

  // The folder: the reference connector, which lives one level deeper (connectors/reference),
  // so its relative imports climb one level less once it is connectors/acme.
  const folder = join(tree, "connectors", KIND);
  await cp(join(REPO, "connectors/reference"), folder, { recursive: true });
  for (const file of await readdir(folder, { recursive: true })) {
    if (!file.endsWith(".ts")) continue;
    const up = file.includes("/") ? "../" : ""; // simulator/ sits one folder deeper
    const text = await readFile(join(folder, file), "utf8");
    await writeFile(
      join(folder, file),
      text
        .replaceAll(`"${up}../../../src/`, `"${up}../../src/`)
        .replace(
          new RegExp(`"${up}\\.\\./(connector|source-file|simulator)\\.js"`, "g"),
          `"${up}../kit/$1.js"`,
        )
        .replace('kind: "reference"', `kind: "${KIND}"`),
    );
  }

  // The line: the module joins the registry (with its import).
  const index = join(tree, "connectors/index.ts");
  const registry = await readFile(index, "utf8");
  const entry = /(export const CONNECTORS[^=]*= \{[^}]*?)\s*\};/;
  expect(registry).toMatch(entry);
  await writeFile(
    index,
    `import ${KIND} from "./${KIND}/index.js";\n${registry.replace(entry, `$1, ${KIND} };`)}`,
  );
}, 60_000);

afterAll(() => rm(tree, { recursive: true, force: true }));

describe("adding a destination is one folder plus one line", () => {
  it("adds exactly an import and an entry to the registry", async () => {
    const registry = await readFile(join(tree, "connectors/index.ts"), "utf8");
    const original = await readFile(join(REPO, "connectors/index.ts"), "utf8");
    const added = registry.split("\n").filter((l) => !original.split("\n").includes(l));
    // The import and the registry entry (the entry rewrites the one line that lists the kinds).
    expect(added).toHaveLength(2);
    expect(added[0]).toBe(`import ${KIND} from "./${KIND}/index.js";`);
    expect(added[1]).toContain(`, ${KIND} }`);
  });

  it("loads through config: the schema accepts the new kind and takes its secrets from the module", async () => {
    const { parseConfig } = (await import(
      join(tree, "src/app/config/load.ts")
    )) as typeof import("../../src/app/config/load.js");
    const { connectorSecretPaths } = (await import(
      join(tree, "src/app/config/destinations.ts")
    )) as typeof import("../../src/app/config/destinations.js");
    const { CONNECTORS } = (await import(
      join(tree, "connectors/index.ts")
    )) as typeof import("../../connectors/index.js");
    const config = parseConfig(
      {
        mlflow: { trackingUri: "http://127.0.0.1:5000" },
        destinations: {
          grc: {
            kind: KIND,
            url: "https://acme.example",
            auth: { clientId: "sealgate", clientSecret: "${ACME}" },
          },
        },
      },
      "sealgate.yaml",
    );
    expect(config.destinations?.grc?.kind).toBe(KIND);
    expect(connectorSecretPaths(CONNECTORS)).toEqual(expect.arrayContaining(["auth.clientSecret"]));
    const bad = (() => {
      try {
        parseConfig(
          { mlflow: { trackingUri: "http://127.0.0.1:5000" }, destinations: { grc: { kind: KIND } } },
          "t",
        );
      } catch (err) {
        return err as SealgateError;
      }
    })();
    expect(bad?.message).toContain("grc.url");
    // And the real tree still does not know it.
    const real = await import("../../src/app/config/load.js");
    expect(() => real.parseConfig({ destinations: { grc: { kind: KIND } } }, "t")).toThrow(
      /unknown destination kind/,
    );
  });

  it("delivers sealed records to the new destination through the engine, exactly once", async () => {
    const load = (p: string) => import(join(tree, p));
    const { parseConfig } = (await load(
      "src/app/config/load.ts",
    )) as typeof import("../../src/app/config/load.js");
    const { loadDestinations } = (await load(
      "src/app/config/destinations.ts",
    )) as typeof import("../../src/app/config/destinations.js");
    const { pushOutbox } = (await load(
      "src/delivery/engine/engine.ts",
    )) as typeof import("../../src/delivery/engine/engine.js");
    const { CONNECTORS } = (await load("connectors/index.ts")) as typeof import("../../connectors/index.js");
    const { createLogger } = (await load("src/core/log.ts")) as typeof import("../../src/core/log.js");
    const { sealedRecords } = (await load(
      "test/support/sealed-records.ts",
    )) as typeof import("../support/sealed-records.js");

    const { default: simulator } = (await load(`connectors/${KIND}/simulator/index.ts`)) as {
      default: import("../../connectors/sdk/simulator.js").SimulatorModule;
    };
    const sim = await simulator.start({});
    try {
      process.env.SG_ACME_SECRET = sim.credentials.clientSecret!;
      const config = parseConfig(
        {
          mlflow: { trackingUri: "http://127.0.0.1:5000" },
          destinations: {
            grc: {
              kind: KIND,
              url: sim.url,
              auth: { clientId: sim.credentials.clientId!, clientSecret: "${SG_ACME_SECRET}" },
            },
          },
        },
        join(tree, "sealgate.yaml"),
      );
      const sealed = await sealedRecords(3);
      const logger = createLogger({ level: "silent" });
      const targets = await loadDestinations(config.destinations!, {
        configPath: join(tree, "sealgate.yaml"),
        connectors: CONNECTORS,
        logger,
      });
      try {
        const result = await pushOutbox({
          storeRoot: sealed.root,
          ...readStore(sealed.root),
          targets,
          signer: sealed.signer,
          logger,
        });
        expect(result.grc).toMatchObject({ delivered: 3, failed: 0 });
      } finally {
        await Promise.all(targets.map((t) => t.destination.close()));
      }
      expect(sim.records()).toHaveLength(3);
    } finally {
      delete process.env.SG_ACME_SECRET;
      await sim.close();
    }
  }, 120_000);
});

describe("vendor error codes live in their vendor's folder", () => {
  it("keep their code strings and the CLI's exit codes (2 config, 3 external)", () => {
    const made = [
      new ServiceNowError("SERVICENOW_AUTH_FAILED", "m"),
      new ServiceNowError("SERVICENOW_TARGET_INVALID", "m"),
      new ServiceNowError("SERVICENOW_RESPONSE_INVALID", "m"),
      new VantaError("VANTA_AUTH_FAILED", "m"),
      new VantaError("VANTA_RESPONSE_INVALID", "m"),
      new ArcherError("ARCHER_LOGIN_FAILED", "m"),
      new ArcherError("ARCHER_MAPPING_INVALID", "m"),
      new ArcherError("ARCHER_REJECTED", "m"),
      new ArcherError("ARCHER_RESPONSE_INVALID", "m"),
      new ArcherError("ARCHER_DUPLICATE_RECORD", "m"),
      new MlflowError("MLFLOW_RESPONSE_INVALID", "m"),
      new MlflowError("MLFLOW_UNSUPPORTED_ARTIFACT_URI", "m"),
    ];
    expect(Object.fromEntries(made.map((e) => [e.code, exitCodeOf(e)]))).toEqual({
      SERVICENOW_AUTH_FAILED: 2,
      SERVICENOW_TARGET_INVALID: 2,
      SERVICENOW_RESPONSE_INVALID: 3,
      VANTA_AUTH_FAILED: 2,
      VANTA_RESPONSE_INVALID: 3,
      ARCHER_LOGIN_FAILED: 2,
      ARCHER_MAPPING_INVALID: 2,
      ARCHER_REJECTED: 3,
      ARCHER_RESPONSE_INVALID: 3,
      ARCHER_DUPLICATE_RECORD: 3,
      MLFLOW_RESPONSE_INVALID: 3,
      MLFLOW_UNSUPPORTED_ARTIFACT_URI: 3,
    });
    for (const e of made) {
      expect(e).toBeInstanceOf(SealgateError);
      expect(e.name).toBe("SealgateError");
    }
  });

  it("are not named in src/core/errors.ts", async () => {
    const text = await readFile(join(REPO, "src/core/errors.ts"), "utf8");
    expect(text).not.toMatch(/\b(SERVICENOW|VANTA|ARCHER|MLFLOW)_[A-Z_]+\s*:/);
  });
});
