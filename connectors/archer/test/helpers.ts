import { createHash } from "node:crypto";
import pino, { type Logger } from "pino";
import type { Delivery, EvidenceFile } from "../../../src/delivery/destination/destination.js";
import { ArcherDestination } from "../client.js";
import { ArcherConfig, type ArcherConfigInput, ArcherTarget, type ArcherTargetInput } from "../config.js";
import { type ArcherSimOptions, ArcherSimulator } from "../simulator/server.js";

export async function startSim(opts: ArcherSimOptions = {}): Promise<ArcherSimulator> {
  return new ArcherSimulator(opts).listen();
}

/** Captures every log line so tests can scan them for secrets. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

export interface DestOptions {
  config?: Partial<ArcherConfigInput>;
  target?: Partial<ArcherTargetInput>;
  password?: string;
  logger?: Logger;
  sleeps?: number[];
  /** Runs before every HTTP attempt; throwing from it stops the "process" there (crash tests). */
  beforeRequest?: () => void;
}

/** A destination pointed at the simulator, with backoff that does not really wait. */
export function destination(sim: ArcherSimulator, o: DestOptions = {}): ArcherDestination {
  const config = ArcherConfig.parse({
    url: sim.url,
    auth: { username: sim.credentials.username, password: "${ARCHER_PASSWORD}" },
    ...o.config,
  });
  const target = ArcherTarget.parse({
    instance: sim.credentials.instance,
    application: "Model Promotions",
    level: "Promotion Record",
    correlationField: "Record Digest",
    attachmentField: "Evidence Files",
    ...o.target,
  });
  return new ArcherDestination("archer-test", config, target, {
    env: { ARCHER_PASSWORD: o.password ?? (sim.credentials.password as string) },
    ...(o.logger ? { logger: o.logger } : {}),
    http: {
      authHeaders: () => {
        o.beforeRequest?.();
        return {};
      },
      backoff: { baseMs: 1, maxMs: 5 },
      sleep: async (ms: number) => {
        o.sleeps?.push(ms);
        await new Promise((r) => setTimeout(r, Math.min(ms, 5)));
      },
    },
  });
}

export function file(name: string, content: string | Uint8Array): EvidenceFile {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  return {
    name,
    mediaType: "application/octet-stream",
    bytes,
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}

export function digestOf(i: number | string): string {
  return `sha256:${createHash("sha256").update(String(i)).digest("hex")}`;
}

export function delivery(i: number, files: EvidenceFile[] = []): Delivery {
  return {
    correlation: digestOf(i),
    fields: {
      Title: `credit-risk v${i}: approved`,
      "Model Name": "credit-risk",
      "Model Version": String(i),
      Decision: "approved",
      "Sealed At": "2026-11-21T07:00:00Z",
    },
    files,
  };
}

/** What the engine does for one delivery: find, create if missing, upload what is missing, finish. */
export async function push(dest: ArcherDestination, d: Delivery): Promise<string> {
  const ref = (await dest.find(d.correlation)) ?? (await dest.create(d));
  const present = new Set((await dest.listFiles(ref)).map((f) => f.name));
  for (const f of d.files) if (!present.has(f.name)) await dest.upload(ref, f);
  await dest.finish(ref);
  return ref.id;
}
