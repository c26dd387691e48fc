import { readFileSync } from "node:fs";
import { z } from "zod";
import { SealgateError } from "./errors.js";
import { registerSecret } from "./util/secret-values.js";

/**
 * A secret in config is never written literally: it is `${ENV_VAR}` or `file:/path`, so config
 * files can be committed and shown without leaking credentials.
 */
export const SecretRef = z
  .string()
  .regex(/^(\$\{[A-Za-z_][A-Za-z0-9_]*\}|file:.+)$/, {
    message: "secrets are references: write ${ENV_VAR} or file:/path/to/secret, not the secret itself",
  })
  .describe("secret reference: ${ENV_VAR} or file:/path");

export type SecretRef = z.infer<typeof SecretRef>;

/**
 * Resolve a reference; `where` names the config path for the error message (never the value).
 * Every resolved value is registered for redaction by value, so it is scrubbed from whatever
 * leaves the process even when a remote echoes it back.
 */
export function resolveSecret(ref: string, where: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = readSecret(ref, where, env);
  registerSecret(value);
  return value;
}

function readSecret(ref: string, where: string, env: NodeJS.ProcessEnv): string {
  const envMatch = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(ref);
  if (envMatch) {
    const name = envMatch[1] as string;
    const value = env[name];
    if (value === undefined || value === "") {
      throw new SealgateError(
        "SECRET_UNRESOLVED",
        `${where}: environment variable ${name} is not set; export it`,
      );
    }
    return value;
  }
  if (ref.startsWith("file:")) {
    const path = ref.slice(5);
    try {
      // A trailing newline is how editors and `echo` write files; it is never part of a secret.
      return readFileSync(path, "utf8").replace(/\r?\n$/, "");
    } catch (cause) {
      const code = (cause as { code?: string }).code ?? "read error";
      throw new SealgateError("SECRET_UNRESOLVED", `${where}: cannot read secret file ${path} (${code})`);
    }
  }
  throw new SealgateError(
    "SECRET_UNRESOLVED",
    `${where}: not a secret reference; write \${ENV_VAR} or file:/path`,
  );
}
