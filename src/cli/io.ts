/** Where a command writes, so tests can run commands in-process and read what they print. */
export interface CliIO {
  out: (text: string) => unknown;
  err: (text: string) => unknown;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
}

export const processIO = (): CliIO => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  isTTY: !!process.stdout.isTTY,
});
