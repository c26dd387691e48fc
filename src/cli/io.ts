import { scrub } from "../core/util/secret-values.js";

/** Where a command writes, so tests can run commands in-process and read what they print. */
export interface CliIO {
  out: (text: string) => unknown;
  err: (text: string) => unknown;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
}

/** The real terminal: nothing is printed before secret values are scrubbed from it. */
export const processIO = (): CliIO => ({
  out: (t) => process.stdout.write(scrub(t)),
  err: (t) => process.stderr.write(scrub(t)),
  env: process.env,
  isTTY: !!process.stdout.isTTY,
});
