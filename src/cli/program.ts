import { Command, CommanderError } from "commander";
import { describeError, type ExitCode, exitCodeOf } from "../core/errors.js";
import { registerApprove } from "./commands/approve.js";
import { registerComment } from "./commands/comment.js";
import { registerConfigCheck } from "./commands/config-check.js";
import { registerDaemon } from "./commands/daemon.js";
import { registerInit } from "./commands/init.js";
import { registerSimulate } from "./commands/simulate.js";
import { registerSync } from "./commands/sync.js";
import { registerExport } from "./commands/export.js";
import { registerGate } from "./commands/gate.js";
import { registerHashModel } from "./commands/hash-model.js";
import { registerMlflowLs } from "./commands/mlflow-ls.js";
import { registerOutbox } from "./commands/outbox.js";
import { registerPending } from "./commands/pending.js";
import { registerPkiInit } from "./commands/pki-init.js";
import { registerReview } from "./commands/review.js";
import { registerVerify } from "./commands/verify.js";
import type { CliIO } from "./io.js";

export function buildProgram(io: CliIO, setExit: (code: ExitCode) => void = () => {}): Command {
  const program = new Command("sealgate")
    .description("Sealed, signed, hash-chained evidence for ML model promotions in MLflow.")
    .version("0.1.0")
    // Root options only before the subcommand, so `review --version 3` means a model version.
    .enablePositionalOptions()
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .addHelpText(
      "after",
      "\nExample:\n  $ sealgate mlflow ls --tracking-uri http://127.0.0.1:5000\n\nExit codes: 0 ok, 1 verification failed or gate denied, 2 usage or config error, 3 external failure.",
    );
  const mlflow = program
    .command("mlflow")
    .description("read the MLflow model registry sealgate watches")
    .addHelpText("after", "\nExample:\n  $ sealgate mlflow ls --model 'credit-*'")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  registerMlflowLs(mlflow, io);
  const pki = program
    .command("pki")
    .description("keys and certificates")
    .addHelpText("after", "\nExample:\n  $ sealgate pki init --out ./dev-pki")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  registerPkiInit(pki, io);
  registerVerify(program, io, setExit);
  registerHashModel(program, io);
  registerReview(program, io);
  registerComment(program, io);
  registerApprove(program, io);
  registerPending(program, io);
  registerGate(program, io, setExit);
  registerOutbox(program, io);
  registerSync(program, io, setExit);
  registerSimulate(program, io);
  registerInit(program, io);
  const config = program
    .command("config")
    .description("check a sealgate config")
    .addHelpText("after", "\nExample:\n  $ sealgate config check --config sealgate.yaml --remote")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  registerConfigCheck(config, io, setExit);
  registerExport(program, io);
  registerDaemon(program, io, setExit);
  return program;
}

/**
 * Where an operand names no subcommand of the group before it (`sealgate nosuch`,
 * `sealgate outbox lst`, `sealgate help nosuch`), or -1. Groups take no options with values,
 * so every operand up to the first leaf command is a command name.
 */
function unknownCommandAt(program: Command, argv: readonly string[]): number {
  let group = program;
  for (const [i, arg] of argv.entries()) {
    if (arg === "--" || group.commands.length === 0) return -1;
    if (arg.startsWith("-") || arg === "help") continue;
    const next = group.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!next) return i;
    group = next;
  }
  return -1;
}

/** Help asked for an unknown command is the unknown command: commander then names it (exit 2). */
function withoutHelpFor(argv: readonly string[], unknown: number): readonly string[] {
  return argv.filter((a, i) => a !== "--help" && a !== "-h" && !(i < unknown && a === "help"));
}

/** Run the CLI and return its exit code: 0 ok, 1 verification failed, 2 usage/config, 3 external. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<ExitCode> {
  let exit: ExitCode = 0;
  const program = buildProgram(io, (code) => {
    exit = code;
  });
  // commander answers `sealgate nosuch --help` with the root help and exit 0 before it notices
  // that `nosuch` is unknown.
  const unknown = unknownCommandAt(program, argv);
  if (unknown >= 0) argv = withoutHelpFor(argv, unknown);
  try {
    await program.parseAsync(argv, { from: "user" });
    return exit;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here too, successfully.
      return err.exitCode === 0 ? 0 : 2;
    }
    io.err(`sealgate: ${describeError(err)}\n`);
    return exitCodeOf(err);
  }
}
