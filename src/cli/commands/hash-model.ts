import { resolve } from "node:path";
import type { Command } from "commander";
import { hashLocalModel } from "../../source/digest/model.js";
import type { CliIO } from "../io.js";
import { progressBar } from "../progress.js";

export function registerHashModel(program: Command, io: CliIO): void {
  program
    .command("hash-model")
    .description("content digest of a local model directory (OpenSSF model-signing v1.0, SHA-256 per file)")
    .argument("<dir>", "model directory")
    .option("--json", "print the whole manifest (every file with size and digest) as JSON")
    .addHelpText(
      "after",
      `
The root digest equals what OpenSSF model_signing computes for the same directory (files named
.git, .github, .gitattributes, .gitignore at the top are ignored; symbolic links are refused).

Example:
  $ sealgate hash-model ./my-model
  sha256:9f2c...  my-model (12 files, 4.1 GB)`,
    )
    .action(async (dir: string, opts: { json?: boolean }) => {
      const bar = progressBar(opts.json ? { ...io, isTTY: false } : io, "hashing");
      let done = 0;
      const m = await hashLocalModel(resolve(dir), { onFile: () => bar.update(++done, done + 1) });
      bar.finish();
      if (opts.json) return void io.out(`${JSON.stringify(m, null, 2)}\n`);
      const bytes = m.files.reduce((s, f) => s + f.size, 0);
      io.out(`${m.root}  ${dir} (${m.files.length} files, ${(bytes / 1e9).toFixed(2)} GB)\n`);
    });
}
