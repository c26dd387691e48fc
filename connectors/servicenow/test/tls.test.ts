import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeError } from "../../../src/errors.js";
import type { ServiceNowSimulator } from "../simulator/server.js";
import { startSim, testDestination } from "./helpers.js";

const run = promisify(execFile);

/** The simulator over https with a certificate from a throwaway CA (openssl). */
describe("TLS to the instance", () => {
  let sim: ServiceNowSimulator;
  let caPath: string;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-sn-tls-"));
    caPath = join(dir, "ca.pem");
    const o = (...args: string[]) => run("openssl", args, { cwd: dir });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    await o(
      "req",
      "-x509",
      ...ec,
      "-days",
      "1",
      "-subj",
      "/CN=sn test CA",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
    );
    await o("req", ...ec, "-subj", "/CN=127.0.0.1", "-keyout", "srv.key", "-out", "srv.csr");
    await writeFile(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
    await o(
      "x509",
      "-req",
      "-in",
      "srv.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      "ext.cnf",
      "-out",
      "srv.pem",
    );
    const [cert, key] = await Promise.all([
      readFile(join(dir, "srv.pem"), "utf8"),
      readFile(join(dir, "srv.key"), "utf8"),
    ]);
    sim = await startSim({ tls: { cert, key } });
  });
  afterAll(() => sim?.close());

  it("refuses an instance whose certificate is not trusted", async () => {
    expect(sim.url).toMatch(/^https:/);
    const dest = testDestination(sim, { config: { retries: 0 } });
    const err = await dest.prepare().catch((e: unknown) => e);
    expect(describeError(err)).toMatch(/certificate/i);
    await dest.close();
  });

  it("trusts the CA named in config.ca", async () => {
    const dest = testDestination(sim, { config: { ca: caPath } });
    await expect(dest.prepare()).resolves.toBeUndefined();
    await dest.close();
  });

  it("names config.ca when the file cannot be read", () => {
    expect(() => testDestination(sim, { config: { ca: "/nonexistent/ca.pem" } })).toThrow(/ca: cannot read/);
  });
});
