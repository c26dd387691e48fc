import type { CliIO } from "./io.js";

/** A one-line progress bar on a terminal; silent when output is not a TTY (CI, pipes, --json). */
export function progressBar(io: CliIO, label: string) {
  let last = 0;
  const draw = (done: number, total: number) => {
    const pct = total > 0 ? Math.min(1, done / total) : 1;
    const width = 30;
    const filled = Math.round(pct * width);
    io.err(
      `\r${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${(pct * 100).toFixed(0).padStart(3)}%`,
    );
  };
  return {
    update(done: number, total: number) {
      if (!io.isTTY) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done, total);
    },
    finish() {
      if (io.isTTY && last > 0) io.err("\n");
    },
  };
}
