import { describe, expect, it } from "vitest";
import { cli } from "../support/cli.js";

/*
 * A mistyped command must never look like success: `sealgate nosuch --help` printed the root
 * help and exited 0, so a script calling a command this version lacks carried on. Every
 * unknown command or subcommand, with or without --help, is named, gets the nearest command
 * when one is close, and exits 2.
 */

describe("unknown commands", () => {
  it.each([
    [["nosuch", "--help"], "nosuch"],
    [["web"], "web"],
    [["web", "--help"], "web"],
    [["-h", "nosuch"], "nosuch"],
    [["help", "nosuch"], "nosuch"],
    [["pki", "nosuch", "--help"], "nosuch"],
    [["mlflow", "nosuch"], "nosuch"],
  ])("sealgate %j names %s and exits 2", async (args, name) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`error: unknown command '${name}'`);
    expect(r.out).toBe("");
    // With no close match, the list of commands to choose from follows.
    expect(r.err).toContain("Commands:");
  });

  it.each([
    [["verfy", "--help"], "verify"],
    [["outbox", "lst", "--help"], "list"],
    [["outbox", "help", "lst"], "list"],
    [["config", "chek"], "check"],
    [["mlflow", "lss", "-h"], "ls"],
    [["pki", "int"], "init"],
  ])("sealgate %j suggests the nearest command", async (args, nearest) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`(Did you mean ${nearest}?)`);
  });

  it.each([[["--help"]], [["help", "outbox"]], [["outbox", "--help"]], [["outbox", "help", "list"]]])(
    "help for known commands still exits 0: %j",
    async (args) => {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(r.out).toContain("Usage: sealgate");
      expect(r.err).toBe("");
    },
  );
});
