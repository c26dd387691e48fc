import { resolve } from "node:path";
import type { Command } from "commander";
import { CONNECTORS } from "../../../connectors/index.js";
import { MlflowClient } from "../../../connectors/mlflow/client.js";
import { loadDestinations } from "../../config/destinations.js";
import { loadConfig } from "../../config/load.js";
import type { DeliveryTarget } from "../../deliver/engine.js";
import { describeError, exitCodeOf, SealgateError } from "../../errors.js";
import { createLogger } from "../../log.js";
import { loadTrust, type Trust } from "../../pki/trust.js";
import { validatePath } from "../../pki/validate.js";
import { loadPolicy } from "../../policy/schema.js";
import { loadSigner } from "../../sign/load.js";
import type { CliIO } from "../io.js";

/*
 * `sealgate config check`: everything a sync would load, loaded and judged one item at a time
 * so an admin sees every problem in one run; --remote also asks MLflow and each destination
 * (ServiceNow dictionary, Archer field definitions, Vanta's document fields) about the mapping.
 */

interface Check {
  check: string;
  ok: boolean;
  detail: string;
  exit?: number;
}

export function registerConfigCheck(parent: Command, io: CliIO, setExit: (code: 0 | 1 | 2 | 3) => void) {
  parent
    .command("check")
    .description(
      "validate a config file, its policy, keys, trust and mappings; --remote asks the live systems too",
    )
    .requiredOption("--config <file>", "the sealgate config to check")
    .option("--remote", "also reach MLflow and every destination, and check mappings against their metadata")
    .option("--json", "print the checks as JSON")
    .addHelpText(
      "after",
      "\nExit 0 all good, 2 a config problem, 3 a system unreachable.\n\nExample:\n  $ sealgate config check --config sealgate.yaml --remote",
    )
    .action(async (opts: { config: string; remote?: boolean; json?: boolean }) => {
      const checks: Check[] = [];
      const run = async <T>(
        name: string,
        fn: () => Promise<T>,
        ok: (v: T) => string,
      ): Promise<T | undefined> => {
        try {
          const v = await fn();
          checks.push({ check: name, ok: true, detail: ok(v) });
          return v;
        } catch (err) {
          checks.push({ check: name, ok: false, detail: describeError(err), exit: exitCodeOf(err) });
          return undefined;
        }
      };
      const config = await loadConfig(opts.config); // unreadable or invalid config: exit 2 with every issue
      checks.push({ check: "config", ok: true, detail: `${opts.config} matches schemas/config.schema.json` });
      const rel = (p: string) => resolve(opts.config, "..", p);
      if (config.policy) {
        const policyPath = rel(config.policy);
        await run(
          "policy",
          () => loadPolicy(policyPath),
          (p) => `${policyPath} version ${p.policy.version}, ${p.digest}`,
        );
      }
      let trust: Trust | undefined;
      if (config.trust) {
        const t = config.trust;
        trust = await run(
          "trust",
          () =>
            loadTrust({
              anchors: rel(t.anchors),
              ...(t.intermediates ? { intermediates: rel(t.intermediates) } : {}),
              ...(t.crls ? { crls: t.crls.map(rel) } : {}),
            }),
          (x) => `${x.anchors.length} anchor(s)`,
        );
      }
      if (config.sealing) {
        const k = config.sealing.key;
        await run(
          "sealing key",
          async () => {
            const signer = await loadSigner(
              k.type === "pem" ? { ...k, key: rel(k.key), cert: rel(k.cert) } : { ...k, file: rel(k.file) },
              "sealing.key",
              io.env,
            );
            if (trust)
              await validatePath(signer.chain[0]!, signer.chain.slice(1), trust, {
                at: new Date(),
                purpose: "sealing",
              });
            return signer;
          },
          (s) => `${s.chain[0]!.subject}${trust ? ", chains to the trust anchors for sealing" : ""}`,
        );
      }
      const targets = await run(
        "destinations",
        () =>
          loadDestinations(config.destinations ?? {}, {
            configPath: opts.config,
            connectors: CONNECTORS,
            logger: createLogger({ level: "silent" }),
          }),
        (t) => (t.length ? `${t.map((x) => x.name).join(", ")}: mappings compile` : "none configured"),
      );
      if (opts.remote) await remoteChecks(config.mlflow, targets ?? [], io, run);
      for (const t of targets ?? []) await t.destination.close();

      const worst = Math.max(0, ...checks.filter((c) => !c.ok).map((c) => c.exit ?? 2));
      if (worst) setExit(worst as 2 | 3);
      if (opts.json) return void io.out(`${JSON.stringify({ ok: worst === 0, checks }, null, 2)}\n`);
      for (const c of checks) io.out(`${c.ok ? "✓" : "✗"} ${c.check}: ${c.detail}\n`);
    });
}

type Run = <T>(name: string, fn: () => Promise<T>, ok: (v: T) => string) => Promise<T | undefined>;

async function remoteChecks(
  mlflow: ConstructorParameters<typeof MlflowClient>[0],
  targets: DeliveryTarget[],
  io: CliIO,
  run: Run,
) {
  const client = new MlflowClient(mlflow, { env: io.env });
  try {
    await run(
      "mlflow",
      async () => {
        let models = 0;
        for await (const _ of client.registeredModels()) models++;
        return models;
      },
      (n) => `${mlflow.trackingUri} answers; ${n} registered model(s) watched`,
    );
  } finally {
    await client.close();
  }
  for (const t of targets) {
    await run(
      `destination ${t.name}`,
      async () => {
        await t.destination.prepare();
        const findings = await t.destination.checkMapping(t.mapping.fieldNames);
        if (findings.length)
          throw new SealgateError(
            "CONFIG_INVALID",
            `mapping does not fit the live target:\n${findings.map((f) => `    fields.${f.field}: ${f.problem}: ${f.detail}`).join("\n")}`,
          );
        return t;
      },
      (x) =>
        `${x.destination.kind} reachable; ${x.mapping.fieldNames.length} mapped field(s) exist with fitting types`,
    );
  }
}
