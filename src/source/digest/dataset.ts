import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import type { Readable } from "node:stream";
import { HttpClient } from "../../core/http/client.js";
import type { DatasetRef } from "../../record/dataset-ref.js";
import type { RegistrySource, SourceRun } from "../registry-source.js";

/*
 * The evaluation dataset by content digest. MLflow's own dataset `digest` is a short label
 * computed from a sample, not the data: it is recorded as a label only. sealgate hashes the
 * bytes when it can reach them: a run artifact with the dataset's file name, a local file (when
 * allowed), or an http(s) URL on an allow-list. Otherwise the record says plainly that the
 * dataset is not content-addressed, and why; policy decides whether that blocks approval.
 */

export interface DatasetOptions {
  /** Hash local paths named by dataset sources (only where sealgate runs beside the data). */
  allowLocalFiles?: boolean;
  /** Hosts whose http(s) dataset URLs may be fetched, e.g. ["data.example.com"]. */
  urlAllowList?: string[];
}

async function sha256Stream(stream: Readable): Promise<{ digest: string; size: number }> {
  const h = createHash("sha256");
  let size = 0;
  for await (const c of stream) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { digest: `sha256:${h.digest("hex")}`, size };
}

/** The location inside an MLflow dataset `source` JSON ({"uri": ...} or {"url": ...}), if any. */
export function sourceLocation(source: string): string | undefined {
  try {
    const v = JSON.parse(source) as Record<string, unknown>;
    const loc = v.uri ?? v.url ?? v.path;
    return typeof loc === "string" ? loc : undefined;
  } catch {
    return source || undefined;
  }
}

/** Content digests for every dataset input of a run, in the run's order. */
export async function resolveDatasets(
  source: RegistrySource,
  run: SourceRun,
  opts: DatasetOptions = {},
): Promise<DatasetRef[]> {
  const inputs = run.datasets;
  if (inputs.length === 0) return [];
  const root = await source.runFiles(run.id);
  const artifacts = await source.list(root).catch(() => []);
  const out: DatasetRef[] = [];
  for (const dataset of inputs) {
    const base = {
      name: dataset.name,
      context: dataset.context,
      mlflowDigest: dataset.digest,
      mlflowSource: dataset.source,
    };
    const location = sourceLocation(dataset.source);
    const file = location ? basename(location) : undefined;
    const artifact = file ? artifacts.find((a) => basename(a.path) === file) : undefined;
    if (artifact) {
      const r = await sha256Stream(await source.open(root, artifact.path));
      out.push({
        ...base,
        contentAddressed: true,
        ...r,
        resolvedFrom: "mlflow-artifact",
        location: artifact.path,
      } as DatasetRef);
      continue;
    }
    if (location && /^https?:\/\//.test(location)) {
      const url = new URL(location);
      if (!opts.urlAllowList?.includes(url.hostname)) {
        out.push({
          ...base,
          contentAddressed: false,
          reason: `host ${url.hostname} is not on the dataset URL allow-list`,
        });
        continue;
      }
      const http = new HttpClient({ baseUrl: url.origin });
      try {
        const res = await http.stream({
          method: "GET",
          path: url.pathname + url.search,
          headers: { accept: "*/*" },
        });
        const r = await sha256Stream(res.body);
        out.push({ ...base, contentAddressed: true, ...r, resolvedFrom: "url", location } as DatasetRef);
      } finally {
        await http.close();
      }
      continue;
    }
    if (location && opts.allowLocalFiles && location.startsWith("/")) {
      try {
        const r = await sha256Stream(createReadStream(location));
        out.push({ ...base, contentAddressed: true, ...r, resolvedFrom: "file", location } as DatasetRef);
        continue;
      } catch (err) {
        out.push({
          ...base,
          contentAddressed: false,
          reason: `local file ${location} unreadable (${(err as { code?: string }).code})`,
        });
        continue;
      }
    }
    out.push({
      ...base,
      contentAddressed: false,
      reason: location
        ? `the bytes at ${location} are not reachable from sealgate (no run artifact named ${file})`
        : "the dataset source names no location",
    });
  }
  return out;
}
