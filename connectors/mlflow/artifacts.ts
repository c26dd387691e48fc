import type { Readable } from "node:stream";
import PQueue from "p-queue";
import { SealgateError } from "../../src/core/errors.js";
import type { MlflowClient } from "./client.js";
import { MlflowError } from "./errors.js";

/*
 * Artifacts are read through the tracking server's artifact proxy (`mlflow-artifacts:`), the
 * only route that needs no cloud credentials. Every path that comes back from MLflow is
 * untrusted: it may not climb out of its root, be absolute, or carry NUL or backslashes.
 */

export interface ArtifactEntry {
  /** Path relative to the listed root, `/`-separated. */
  path: string;
  size: number;
}

/** Refuse a path from MLflow that could escape its root. Returns the path normalised. */
export function safeArtifactPath(path: string, what = "artifact path"): string {
  const fail = (why: string) => {
    throw new SealgateError("UNSAFE_ARTIFACT_PATH", `${what} ${JSON.stringify(path)} refused: ${why}`);
  };
  if (path.includes("\0")) fail("contains a NUL byte");
  if (path.includes("\\")) fail("contains a backslash");
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) fail("is absolute");
  const segments = path.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.some((s) => s === "..")) fail("contains a '..' segment");
  return segments.join("/");
}

/** The proxied path behind an artifact URI MLflow handed us (download URI, run or model artifact_uri). */
export function proxiedPath(uri: string): string {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(uri) ?? /^mlflow-artifacts:([^/].*)$/.exec(uri);
  if (!m) {
    throw new MlflowError(
      "MLFLOW_UNSUPPORTED_ARTIFACT_URI",
      `artifact URI ${JSON.stringify(uri)} is not served by the tracking server; run MLflow with --serve-artifacts (mlflow-artifacts:/ URIs)`,
    );
  }
  return safeArtifactPath(decodeURIComponentSafe(m[1] ?? ""), "artifact URI path");
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new SealgateError(
      "UNSAFE_ARTIFACT_PATH",
      `artifact URI path ${JSON.stringify(s)} is not valid percent-encoding`,
    );
  }
}

export interface TreeOptions {
  concurrency?: number;
  /** A hostile or broken server could list forever; stop well past any real model. */
  maxEntries?: number;
}

/**
 * Every file under `root` (a proxied path), recursing directory by directory (the API lists one
 * level) with bounded parallelism. Sorted by path.
 */
export async function listArtifactTree(client: MlflowClient, root: string, opts: TreeOptions = {}) {
  const base = safeArtifactPath(root, "artifact root");
  const maxEntries = opts.maxEntries ?? 1_000_000;
  const queue = new PQueue({ concurrency: opts.concurrency ?? client.config.concurrency });
  const files: ArtifactEntry[] = [];
  let seen = 0;
  let failure: unknown;
  const schedule = (rel: string) => {
    queue
      .add(() => visit(rel))
      .catch((err: unknown) => {
        failure ??= err;
        queue.clear();
      });
  };
  const visit = async (rel: string): Promise<void> => {
    const listing = await client.listProxiedArtifacts(rel ? `${base}/${rel}` : base);
    for (const f of listing.files) {
      if (++seen > maxEntries) {
        throw new MlflowError(
          "MLFLOW_RESPONSE_INVALID",
          `artifact listing of ${base} exceeds ${maxEntries} entries`,
        );
      }
      const name = safeArtifactPath(f.path, `artifact name in ${base}/${rel}`);
      if (name === "" || name.includes("/")) {
        throw new SealgateError(
          "UNSAFE_ARTIFACT_PATH",
          `artifact name ${JSON.stringify(f.path)} in ${base}/${rel} is not a single path segment`,
        );
      }
      const path = rel ? `${rel}/${name}` : name;
      if (f.is_dir) schedule(path);
      else files.push({ path, size: f.file_size ?? 0 });
    }
  };
  schedule("");
  await queue.onIdle();
  if (failure) throw failure;
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Stream one file under a proxied root. The caller must consume or destroy the stream. */
export async function openArtifact(client: MlflowClient, root: string, path: string): Promise<Readable> {
  const full = `${safeArtifactPath(root, "artifact root")}/${safeArtifactPath(path)}`;
  return (await client.openProxiedArtifact(full)).body;
}

/** Where a model version's files live: the proxied root behind its download URI. */
export async function modelVersionRoot(client: MlflowClient, name: string, version: string): Promise<string> {
  return proxiedPath(await client.downloadUri(name, version));
}

/** Where a run's artifacts live (explanation plots, dataset files). */
export async function runArtifactRoot(client: MlflowClient, runId: string): Promise<string> {
  return proxiedPath((await client.run(runId)).info.artifact_uri);
}
