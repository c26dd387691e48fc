import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import type { DevPkiManifest } from "../crypto/pki/dev-pki.js";
import { REPO_ROOT } from "./venv.js";

/*
 * The demo's time-stamp authority: the test TSA (test/support/tsa.mjs, `openssl ts -reply`
 * behind a tiny HTTP front) with the dev PKI's TSA key, spawned by path so that src/ never
 * imports test code.
 */

export async function spawnTestTsa(pki: DevPkiManifest): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, "test/support/tsa.mjs"), "--key", pki.tsa.key, "--cert", pki.tsa.cert],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const first = await new Promise<string | undefined>((resolve) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", resolve);
    child.once("exit", () => resolve(undefined));
  });
  if (!first?.startsWith("http://")) throw new Error("the test TSA did not start");
  return {
    url: first,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
