import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { CONNECTORS } from "../../../connectors/index.js";
import { SOURCES } from "../../../connectors/sources.js";
import { loadDestinations } from "../../app/config/destinations.js";
import { loadConfig } from "../../app/config/load.js";
import type { SealgateConfig } from "../../app/config/schema.js";
import { resolveSecret } from "../../core/secrets.js";
import type { DeliveryTarget } from "../../delivery/engine/engine.js";
import { describeError, exitCodeOf, SealgateError } from "../../core/errors.js";
import { type HttpSecurity, prepareHttp } from "../../pipeline/daemon/exposure.js";
import { createAppLogger } from "../../app/logger.js";
import { loadTrust, type Trust } from "../../crypto/pki/trust.js";
import { validatePath } from "../../crypto/pki/validate.js";
import { uncoveredRoles } from "../../policy/coverage.js";
import { loadPolicy } from "../../policy/schema.js";
import { loadSigner } from "../../crypto/sign/load.js";
import { inspectStorePath } from "../../evidence/store/store-path.js";
import type { CliIO } from "../io.js";

/*
 * `sealgate config check`: everything a sync or the daemon would load or refuse, judged one
 * item at a time so an admin sees every problem in one run; --remote also asks MLflow and each
 * destination (ServiceNow dictionary, Archer field definitions, Vanta's document fields) about
 * the mapping. A policy whose chains someone cannot complete today is a warning (exit 0).
 */

interface Check {
  check: string;
  ok: boolean;
  detail: string;
  exit?: number;
  /** Works, but something will not: said, without failing the check. */
  warning?: true;
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
      "\nExit 0 all good (a line marked ! is a warning), 2 a config problem, 3 a system unreachable.\n\nExample:\n  $ sealgate config check --config sealgate.yaml --remote",
    )
    .action(async (opts: { config: string; remote?: boolean; json?: boolean }) => {
      const checks: Check[] = [];
      const run = runner(checks);
      const config = await loadConfig(opts.config); // unreadable or invalid config: exit 2 with every issue
      checks.push({ check: "config", ok: true, detail: `${opts.config} matches schemas/config.schema.json` });
      const rel = (p: string) => resolve(opts.config, "..", p);
      if (config.store) {
        const storeRoot = rel(config.store.path);
        await run(
          "store",
          () => storeWritable(storeRoot),
          (d) => d,
        );
      }
      if (config.policy) await policyChecks(rel(config.policy), run, checks);
      await keyChecks(config, rel, io, run);
      const webhook = config.daemon.webhook;
      if (webhook)
        await run(
          "webhook secret",
          async () => resolveSecret(webhook.secret, "daemon.webhook.secret", io.env),
          () => "daemon.webhook.secret resolves",
        );
      // The daemon's own bind rule: a non-loopback bind without TLS and a token is refused.
      const http = await run(
        "daemon http",
        () => prepareHttp(config.daemon, opts.config, io.env),
        (h) => daemonHttpDetail(config.daemon.listen.host, h),
      );
      if (http?.insecure.length) checks[checks.length - 1]!.warning = true;
      const absent = DAEMON_NEEDS.filter((k) => !config[k]);
      if (absent.length)
        checks.push({
          check: "daemon",
          ok: true,
          warning: true,
          detail: `sync and the daemon also need ${absent.join(", ")}; this config serves the other commands only`,
        });
      const targets = await destinationChecks(config, opts.config, checks);
      if (opts.remote) await remoteChecks(config.mlflow, targets, io, run);
      for (const t of targets) await t.destination.close();

      const worst = Math.max(0, ...checks.filter((c) => !c.ok).map((c) => c.exit ?? 2));
      if (worst) setExit(worst as 2 | 3);
      if (opts.json) return void io.out(`${JSON.stringify({ ok: worst === 0, checks }, null, 2)}\n`);
      for (const c of checks) io.out(`${c.ok ? (c.warning ? "!" : "✓") : "✗"} ${c.check}: ${c.detail}\n`);
    });
}

/** What the daemon's HTTP server would expose, as the daemon itself would judge it at start. */
function daemonHttpDetail(host: string, http: HttpSecurity): string {
  if (http.insecure.length)
    return `${host} is served without ${http.insecure.join(" and ")} (daemon.allowInsecureBind: true)`;
  const how = [http.tls ? "TLS" : "plain HTTP", http.accessToken ? "an access token" : "no access token"];
  return `${host}: ${how.join(" with ")}`;
}

/** Sections that are optional for `mlflow ls` or `gate`, but without which sync and the daemon refuse to start. */
const DAEMON_NEEDS = ["store", "policy", "trust", "sealing"] as const;

/** Run one check, record its outcome, and hand back its value (undefined when it failed). */
function runner(checks: Check[]): Run {
  return async (name, fn, ok) => {
    try {
      const v = await fn();
      checks.push({ check: name, ok: true, detail: ok(v) });
      return v;
    } catch (err) {
      checks.push({ check: name, ok: false, detail: describeError(err), exit: exitCodeOf(err) });
      return undefined;
    }
  };
}

const storeProblem = (root: string, problem: string) =>
  new SealgateError("CONFIG_INVALID", `store.path ${root} ${problem}`);

/** What the daemon does first with store.path: create it when missing, then write in it. */
async function storeWritable(root: string): Promise<string> {
  const { base, problem } = await inspectStorePath(root);
  if (problem) throw storeProblem(root, problem);
  for (const d of base === root ? [root, resolve(root, "ledger"), resolve(root, "objects")] : [base]) {
    const denied = await access(d, constants.W_OK | constants.X_OK).catch(
      (err: NodeJS.ErrnoException) => err,
    );
    if (denied && denied.code !== "ENOENT")
      throw storeProblem(root, `is not writable: ${d} (${denied.code}); fix its owner or permissions`);
  }
  return base === root ? `${root} is writable` : `${root} does not exist yet; it can be created in ${base}`;
}

/** The policy loads, and every role of every tier's chain has an approver valid today. */
async function policyChecks(policyPath: string, run: Run, checks: Check[]) {
  const loaded = await run(
    "policy",
    () => loadPolicy(policyPath),
    (p) => `${policyPath} version ${p.policy.version}, ${p.digest}`,
  );
  if (!loaded) return;
  const uncovered = uncoveredRoles(loaded.policy, new Date());
  checks.push(
    uncovered.length
      ? {
          check: "approvers",
          ok: true,
          warning: true,
          detail: `no approver registered and valid today for ${uncovered.map((u) => `tier ${u.tier}: ${u.roles.join(", ")}`).join("; ")}; versions routed there cannot be approved until policy.approvers names someone`,
        }
      : {
          check: "approvers",
          ok: true,
          detail: "every role of every tier's chain has an approver valid today",
        },
  );
}

/** The trust anchors load, and the sealing key loads and chains to them for sealing. */
async function keyChecks(config: SealgateConfig, rel: (p: string) => string, io: CliIO, run: Run) {
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
  if (!config.sealing) return;
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

/** Each destination on its own line, named, so an error says which destination it is about. */
async function destinationChecks(
  config: SealgateConfig,
  configPath: string,
  checks: Check[],
): Promise<DeliveryTarget[]> {
  const entries = Object.entries(config.destinations ?? {});
  if (entries.length === 0) checks.push({ check: "destinations", ok: true, detail: "none configured" });
  const targets: DeliveryTarget[] = [];
  for (const [name, d] of entries) {
    const check = `destinations.${name}`;
    try {
      const logger = createAppLogger({ level: "silent" });
      targets.push(
        ...(await loadDestinations({ [name]: d }, { configPath, connectors: CONNECTORS, logger })),
      );
      checks.push({ check, ok: true, detail: `${d.kind}: mapping compiles, credentials resolve` });
    } catch (err) {
      checks.push({ check, ok: false, detail: withoutName(describeError(err), name), exit: exitCodeOf(err) });
    }
  }
  return targets;
}

/** The check's label names the destination; drop the message's own copy of it. */
function withoutName(message: string, name: string): string {
  for (const prefix of [`destinations.${name}.`, `destination ${name}: `])
    if (message.startsWith(prefix)) return message.slice(prefix.length);
  // With the connector's kind: `destination NAME (KIND): `.
  const named = `destination ${name} (`;
  const end = message.indexOf("): ", named.length);
  if (message.startsWith(named) && end > 0) return message.slice(end + 3);
  return message;
}

type Run = <T>(name: string, fn: () => Promise<T>, ok: (v: T) => string) => Promise<T | undefined>;

async function remoteChecks(
  mlflow: Parameters<typeof SOURCES.mlflow.create>[0],
  targets: DeliveryTarget[],
  io: CliIO,
  run: Run,
) {
  const source = SOURCES.mlflow.create(mlflow, { env: io.env });
  try {
    await run(
      "mlflow",
      () => source.countModels(),
      (n) => `${mlflow.trackingUri} answers; ${n} registered model(s) watched`,
    );
  } finally {
    await source.close();
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
