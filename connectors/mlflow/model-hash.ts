import { createHash } from "node:crypto";
import PQueue from "p-queue";
import { buildManifest, isIgnored, type ModelFile } from "../../src/source/digest/model.js";
import { MlflowError } from "./errors.js";
import { listArtifactTree, openArtifact } from "./artifacts.js";
import type { MlflowClient } from "./client.js";

/**
 * Hash a model straight from MLflow's artifact proxy: every file streamed through SHA-256,
 * never written to disk, a bounded number at a time, so memory stays flat whatever the size.
 * The serialization is digest/model.ts's (OpenSSF model-signing v1.0 "files").
 */
export async function hashMlflowModel(
  client: MlflowClient,
  root: string,
  opts: { concurrency?: number } = {},
) {
  const listed = (await listArtifactTree(client, root)).filter((f) => !isIgnored(f.path));
  const queue = new PQueue({ concurrency: opts.concurrency ?? client.config.concurrency });
  const files = await Promise.all(
    listed.map(
      (f) =>
        queue.add(async (): Promise<ModelFile> => {
          const h = createHash("sha256");
          let size = 0;
          for await (const chunk of await openArtifact(client, root, f.path)) {
            h.update(chunk as Buffer);
            size += (chunk as Buffer).length;
          }
          if (size !== f.size) {
            throw new MlflowError(
              "MLFLOW_RESPONSE_INVALID",
              `artifact ${root}/${f.path}: listed as ${f.size} bytes, downloaded ${size}`,
            );
          }
          return { name: f.path, size, digest: h.digest("hex") };
        }) as Promise<ModelFile>,
    ),
  );
  return buildManifest(files);
}
