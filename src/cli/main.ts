#!/usr/bin/env node
import { processIO } from "./io.js";
import { runCli } from "./program.js";

/*
 * The sealgate executable. A reader that goes away (`sealgate --help | head -3`) closes the
 * pipe: further output is dropped quietly, as Unix tools do, instead of crashing with an EPIPE
 * stack trace. The command still ends with its own exit code, so a gate denial piped into
 * `head` stays a denial.
 */

function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  let closed = false;
  stream.on("error", (err: NodeJS.ErrnoException) => {
    // After EPIPE the stream is destroyed; later writes fail too, and are as unwanted.
    if (err.code === "EPIPE" || closed) {
      closed = true;
      return;
    }
    throw err;
  });
}

quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);
process.exitCode = await runCli(process.argv.slice(2), processIO());
