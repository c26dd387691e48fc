import { mkdir, mkdtemp, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../support/cli.js";
import { devPki } from "../support/pki.js";

/*
 * `init --pki DIR` writes a config pointing at DIR's trust anchors and sealing key. A DIR that
 * is not there (the README once ran init before `pki init`) gave a config that failed its first
 * check; init now refuses it, says which command makes it, and writes nothing.
 */

describe("sealgate init --pki", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sealgate-init-"));
  const written = (out: string) =>
    stat(join(out, "sealgate.yaml")).then(
      () => true,
      () => false,
    );

  it("refuses a PKI folder that does not exist, and says to run pki init first", async () => {
    const pki = join(dir, "dev-pki");
    const out = join(dir, "missing");
    const r = await cli(["init", "--dir", out, "--pki", pki]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`--pki ${pki} does not exist; run \`sealgate pki init --out ${pki}\` first`);
    expect(await written(out)).toBe(false);
  });

  it("refuses a file, or a folder pki init did not make", async () => {
    await writeFile(join(dir, "a-file"), "x\n");
    const file = await cli(["init", "--dir", join(dir, "f"), "--pki", join(dir, "a-file")]);
    expect(file.code).toBe(2);
    expect(file.err).toContain("is not a directory; run `sealgate pki init --out");
    await mkdir(join(dir, "empty"));
    const empty = await cli(["init", "--dir", join(dir, "e"), "--pki", join(dir, "empty")]);
    expect(empty.code).toBe(2);
    expect(empty.err).toContain("lacks trust/anchors.pem, trust/intermediates.pem, sealing.key, sealing.pem");
    expect((await written(join(dir, "f"))) || (await written(join(dir, "e")))).toBe(false);
  });

  it("accepts a folder made by pki init", async () => {
    const { dir: pki } = await devPki();
    const out = join(dir, "ok");
    const r = await cli(["init", "--dir", out, "--pki", pki]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(await written(out)).toBe(true);
  });
});
