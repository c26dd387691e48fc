import type { CliIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/program.js";

/** Run the sealgate CLI in-process and capture what it prints and its exit code. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t), env, isTTY: false };
  return { code: await runCli(args, io), out: out.join(""), err: err.join("") };
}
