import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ServiceNowSimulator,
  startServiceNowSimulator,
} from "../../../connectors/servicenow/simulator/server.js";
import { HttpClient } from "../../../src/core/http/client.js";
import { HttpStatusError } from "../../../src/core/http/errors.js";
import { sealedRecords, type SealedStore } from "../../support/sealed-records.js";
import { canary, echoServer, type EchoServer, filesUnder, leakForms, type Run, runCli } from "./echo.js";

/*
 * Secrets must not leave the process through a remote's error body. Every remote here echoes
 * the request it got (Authorization header, form and JSON bodies) in its error, as MLflow, a
 * ServiceNow instance (basic auth and OAuth client credentials), Vanta and Archer stand-ins.
 * Each secret is a distinct canary; after the operator's commands run against them, no byte
 * of stdout, stderr, the JSON logs or the store may hold any canary in any encoding.
 */

const MLFLOW_USER = "mlflow-reader";
const SN_USER = "sealgate.integration";
const ARCHER_USER = "sealgate-api";

const secrets = {
  SG_CANARY_MLFLOW: canary("mlflow"),
  SG_CANARY_SN_BASIC: canary("snbasic"),
  SG_CANARY_SN_CLIENT: canary("snclient"),
  SG_CANARY_VANTA: canary("vanta"),
  SG_CANARY_ARCHER: canary("archer"),
};

let sealed: SealedStore;
let sim: ServiceNowSimulator;
const echoes: Record<string, EchoServer> = {};
let env: Record<string, string>;

beforeAll(async () => {
  sealed = await sealedRecords(1);
  sim = await startServiceNowSimulator({
    credentials: { username: SN_USER, password: secrets.SG_CANARY_SN_BASIC },
  });
  echoes.mlflow = await echoServer({ status: 400, format: "json" });
  // Answers the reconcile searches (nothing registered) so sync and the daemon go on to push.
  echoes.quietMlflow = await echoServer({
    status: 400,
    format: "json",
    answer: (_m, path) => (path.endsWith("/search") ? {} : undefined),
  });
  echoes.snOauth = await echoServer({ status: 500, format: "json" });
  echoes.vanta = await echoServer({ status: 401, format: "text" });
  echoes.archer = await echoServer({ status: 400, format: "archer" });
  // A real instance for reading, whose record creation echoes: the error lands in the outbox.
  echoes.snBasic = await echoServer({
    status: 403,
    format: "json",
    upstream: sim.url,
    echoIf: (method) => method === "POST",
  });
  const p12Pass = (await readFile(sealed.pki.p12Passphrase.slice("file:".length), "utf8")).trim();
  env = { ...secrets, SG_CANARY_P12: p12Pass };
});

afterAll(async () => {
  await Promise.all(Object.values(echoes).map((e) => e.close()));
  await sim?.close();
});

async function writeConfig(file: string, mlflowUrl: string): Promise<string> {
  const { pki } = sealed;
  const path = join(sealed.root, "..", file);
  await writeFile(
    join(sealed.root, "..", "policy.yaml"),
    await readFile(join(import.meta.dirname, "../../../config/policy.example.yaml")),
  );
  await writeFile(
    path,
    [
      "mlflow:",
      `  trackingUri: ${mlflowUrl}`,
      `  auth: { type: basic, username: ${MLFLOW_USER}, password: "\${SG_CANARY_MLFLOW}" }`,
      `store: { path: ${sealed.root} }`,
      "policy: policy.yaml",
      `trust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates} }`,
      `sealing: { key: { type: pkcs12, file: ${pki.sealing.p12}, passphrase: "\${SG_CANARY_P12}" } }`,
      "destinations:",
      "  sn-basic:",
      "    kind: servicenow",
      `    url: ${echoes.snBasic!.url}`,
      "    retries: 0",
      `    auth: { type: basic, username: ${SN_USER}, password: "\${SG_CANARY_SN_BASIC}" }`,
      "  sn-oauth:",
      "    kind: servicenow",
      `    url: ${echoes.snOauth!.url}`,
      "    retries: 0",
      '    auth: { type: oauth-client-credentials, clientId: sealgate, clientSecret: "${SG_CANARY_SN_CLIENT}" }',
      "  vanta:",
      "    kind: vanta",
      `    url: ${echoes.vanta!.url}`,
      "    retries: 0",
      '    auth: { clientId: vci_sealgate, clientSecret: "${SG_CANARY_VANTA}" }',
      "  archer:",
      "    kind: archer",
      `    url: ${echoes.archer!.url}`,
      `    auth: { username: ${ARCHER_USER}, password: "\${SG_CANARY_ARCHER}" }`,
      "daemon:",
      "  listen: { port: 0 }",
    ].join("\n"),
  );
  return path;
}

/** Every encoded form of every canary, and every credential the remotes were sent. */
function forbidden(): { label: string; form: string }[] {
  const users: Record<string, string> = {
    SG_CANARY_MLFLOW: MLFLOW_USER,
    SG_CANARY_SN_BASIC: SN_USER,
    SG_CANARY_ARCHER: ARCHER_USER,
  };
  const out = Object.entries(env).flatMap(([label, value]) =>
    leakForms(value, users[label]).map((form) => ({ label, form })),
  );
  for (const [name, e] of Object.entries(echoes))
    for (const a of e.authorizations)
      out.push({ label: `${name} authorization`, form: a.replace(/^\S+ /, "") });
  return out;
}

function leaks(where: string, bytes: Buffer): string[] {
  return forbidden()
    .filter(({ form }) => bytes.includes(Buffer.from(form, "utf8")))
    .map(({ label, form }) => `${where}: ${label} as ${JSON.stringify(form.slice(0, 12))}…`);
}

describe("secrets echoed by a remote never leave the process", () => {
  it("across config check --remote, gate, sync, daemon --once, status and outbox list", async () => {
    const failing = await writeConfig("echo-all.yaml", echoes.mlflow!.url);
    const pushing = await writeConfig("echo-push.yaml", echoes.quietMlflow!.url);
    const runs: Run[] = [];
    const run = async (...args: string[]) => {
      const r = await runCli(args, env);
      runs.push(r);
      return r;
    };
    for (const json of [[], ["--json"]])
      await run("config", "check", "--config", failing, "--remote", ...json);
    await run("gate", "--config", failing, "--model", "credit-risk", "--version", "1");
    await run("sync", "--config", failing);
    await run("daemon", "--config", failing, "--once");
    await run("sync", "--config", pushing, "--json");
    // The failed deliveries are backing off; retry puts them back for the daemon's push.
    await run("outbox", "retry", "--config", pushing);
    await run("daemon", "--config", pushing, "--once");
    await run("status", "--config", pushing);
    for (const json of [[], ["--json"]]) await run("outbox", "list", "--config", pushing, ...json);

    // The echoes did reach every channel (else the test proves nothing)...
    const all = (cmd: string) =>
      runs
        .filter((r) => r.args.join(" ").startsWith(cmd))
        .map((r) => r.out + r.err)
        .join("\n");
    for (const cmd of ["config check", "gate", "sync", "daemon"]) expect(all(cmd)).toMatch(/authorization: /);
    const check = runs[0]!;
    // sn-basic reads from a real simulator: only its deliveries echo.
    for (const name of ["mlflow", "sn-oauth", "vanta", "archer"])
      expect(check.out).toMatch(new RegExp(`✗ (destination )?${name}: .*answered`));
    const outbox = await readFile(join(sealed.root, "outbox", "sn-basic.jsonl"), "utf8");
    expect(outbox).toMatch(/"to":"failed".*authorization: Basic /);
    expect(all("outbox list")).toMatch(/sn-basic\t.*authorization: Basic /s);

    // ...and not one canary, in any encoding, reached any of them.
    const found = [
      ...runs.flatMap((r) => [
        ...leaks(`${r.args.slice(0, 2).join(" ")} stdout`, Buffer.from(r.out)),
        ...leaks(`${r.args.slice(0, 2).join(" ")} stderr`, Buffer.from(r.err)),
      ]),
      ...(await filesUnder(join(sealed.root, ".."))).flatMap((f) =>
        f.path.includes("/pki/") ? [] : leaks(f.path.slice(sealed.root.length - 5), f.bytes),
      ),
    ];
    expect([...new Set(found)]).toEqual([]);
  });
});

describe("an HTTP error from a remote that echoes the request", () => {
  it("holds no credential, though every later exit would scrub it again", async () => {
    const secret = canary("bearer");
    const http = new HttpClient({
      baseUrl: echoes.mlflow!.url,
      authHeaders: () => ({ authorization: `Bearer ${secret}` }),
      backoff: { retries: 0 },
    });
    const err = (await http
      .json({ method: "POST", path: "x", json: { secret } })
      .catch((e: unknown) => e)) as HttpStatusError;
    await http.close();
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err.message).toMatch(/answered 400: POST \/x\nauthorization: Bearer \[REDACTED\]/);
    const text = [err.message, err.remote.code, err.remote.message].join("\n");
    expect(leakForms(secret).filter((form) => text.includes(form))).toEqual([]);
  });
});
