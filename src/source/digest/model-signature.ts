import { canonicalBytes } from "../../record/canonical.js";
import { signDsseBundle, type SigstoreBundle } from "../../crypto/sign/dsse.js";
import type { Signer } from "../../crypto/sign/signer.js";
import type { ModelManifest } from "./model.js";

/*
 * An OpenSSF model-signing v1.0 signature of a model's files: an in-toto Statement v1 whose
 * subject digest is the manifest's root and whose predicate lists every file's SHA-256 with
 * the "files" serialization sealgate hashed by (model.ts), in a DSSE envelope in a Sigstore
 * bundle (dsse.ts). `model_signing verify certificate MODEL_DIR --signature model.sig
 * --certificate_chain ROOT.pem` checks it against the files on disk.
 */

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
export const MODEL_SIGNING_PREDICATE = "https://model_signing/signature/v1.0";

/** The statement's bytes (RFC 8785: model_signing parses JSON, so one fixed form costs nothing). */
export function modelStatement(manifest: ModelManifest, name: string): Uint8Array {
  return canonicalBytes(
    {
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ name, digest: { sha256: manifest.root.slice("sha256:".length) } }],
      predicateType: MODEL_SIGNING_PREDICATE,
      predicate: {
        serialization: {
          method: "files",
          hash_type: "sha256",
          allow_symlinks: false,
          ignore_paths: [".git", ".gitattributes", ".github", ".gitignore"],
        },
        // Already in model_signing's order: path parts compared by code point (buildManifest).
        resources: manifest.files.map((f) => ({ name: f.name, algorithm: "sha256", digest: f.digest })),
      },
    },
    "model-signing statement",
  );
}

/** Sign the model's manifest; `name` is informative only (model_signing: the model's folder name). */
export function signModel(manifest: ModelManifest, name: string, signer: Signer): Promise<SigstoreBundle> {
  return signDsseBundle(signer, IN_TOTO_PAYLOAD_TYPE, modelStatement(manifest, name));
}
