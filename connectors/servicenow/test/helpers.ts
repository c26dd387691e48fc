import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import pino, { type Logger } from "pino";
import type { Delivery, EvidenceFile } from "../../../src/delivery/destination/destination.js";
import type { HttpClientOptions } from "../../../src/core/http/client.js";
import { ServiceNowDestination } from "../client.js";
import {
  ServiceNowConfig,
  type ServiceNowConfigInput,
  ServiceNowTarget,
  type ServiceNowTargetInput,
} from "../config.js";
import {
  type ServiceNowSimulator,
  type ServiceNowSimulatorOptions,
  startServiceNowSimulator,
} from "../simulator/server.js";

/** Secrets reach the connector as ${ENV} references, as in a real config file. */
export function envFor(sim: ServiceNowSimulator): NodeJS.ProcessEnv {
  return { SN_PASSWORD: sim.credentials.password, SN_CLIENT_SECRET: sim.credentials.clientSecret };
}

export type AuthKind = "basic" | "oauth-password" | "oauth-client-credentials";

export function authFor(sim: ServiceNowSimulator, kind: AuthKind): ServiceNowConfigInput["auth"] {
  const { username, clientId } = sim.credentials as Record<string, string>;
  if (kind === "basic") return { type: "basic", username: username!, password: "${SN_PASSWORD}" };
  if (kind === "oauth-client-credentials") {
    return { type: kind, clientId: clientId!, clientSecret: "${SN_CLIENT_SECRET}" };
  }
  return {
    type: kind,
    clientId: clientId!,
    clientSecret: "${SN_CLIENT_SECRET}",
    username: username!,
    password: "${SN_PASSWORD}",
  };
}

/** Every log line, as text, for secret scans. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { logger: pino({ level: "debug" }, sink), lines };
}

export interface TestDestinationOptions {
  auth?: AuthKind;
  config?: Partial<ServiceNowConfigInput>;
  target?: ServiceNowTargetInput;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  http?: Partial<HttpClientOptions>;
  now?: () => number;
}

/** A destination against `sim` whose backoff sleeps are short (tests wait for nothing long). */
export function testDestination(sim: ServiceNowSimulator, o: TestDestinationOptions = {}) {
  const config = ServiceNowConfig.parse({
    url: sim.url,
    auth: authFor(sim, o.auth ?? "oauth-password"),
    ...o.config,
  });
  const target = ServiceNowTarget.parse(o.target ?? {});
  return new ServiceNowDestination("grc", config, target, {
    env: o.env ?? envFor(sim),
    http: { backoff: { baseMs: 1, maxMs: 5 }, sleep: () => Promise.resolve(), ...o.http },
    ...(o.logger ? { logger: o.logger } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
}

export function startSim(opts: ServiceNowSimulatorOptions = {}) {
  return startServiceNowSimulator(opts);
}

export function evidenceFile(name: string, mediaType: string, content: string | Uint8Array): EvidenceFile {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  return { name, mediaType, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** A delivery for record `i`, with the five evidence files of the default mapping. */
export function delivery(i: number, seed = "t"): Delivery {
  const digest = `sha256:${createHash("sha256").update(`${seed}-${i}`).digest("hex")}`;
  const pdf = new Uint8Array(2048 + (i % 7) * 100).map((_, k) => (k * 31 + i) & 0xff);
  return {
    correlation: digest,
    fields: { short_description: `fraud-detector v${i}: approved`, description: `record ${digest}` },
    files: [
      evidenceFile("evidence.json", "application/json", JSON.stringify({ record: i, digest })),
      evidenceFile("record.json", "application/json", JSON.stringify({ i })),
      evidenceFile("record.jws", "application/jose", `eyJ.${i}.sig`),
      evidenceFile("record.p7s", "application/pkcs7-signature", new Uint8Array([48, 130, i & 0xff, 7])),
      evidenceFile("record.pdf", "application/pdf", pdf),
    ],
  };
}

/** What the engine does for one record: find, create if missing, upload what is missing. */
export async function push(dest: ServiceNowDestination, d: Delivery) {
  const ref = (await dest.find(d.correlation)) ?? (await dest.create(d));
  const present = await dest.listFiles(ref);
  for (const f of d.files) {
    if (!present.some((p) => p.name === f.name && p.size === f.bytes.length)) await dest.upload(ref, f);
  }
  return ref;
}
