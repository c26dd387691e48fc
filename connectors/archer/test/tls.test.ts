import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArcherSimulator } from "../simulator/server.js";
import { delivery, destination, startSim } from "./helpers.js";

const run = promisify(execFile);

/** The simulator over https with a certificate from a throwaway CA (openssl). */
describe("TLS to Archer", () => {
  let sim: ArcherSimulator;
  let caPath: string;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-archer-tls-"));
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
      "/CN=archer test CA",
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
    const [key, cert] = await Promise.all([
      readFile(join(dir, "srv.key"), "utf8"),
      readFile(join(dir, "srv.pem"), "utf8"),
    ]);
    sim = await startSim({ tls: { key, cert } });
  });
  afterAll(async () => {
    await sim.close();
  });

  it("trusts the configured CA bundle", async () => {
    expect(sim.url).toMatch(/^https:/);
    const dest = destination(sim, { config: { ca: caPath } });
    await dest.prepare();
    await dest.create(delivery(1));
    expect(sim.records()).toHaveLength(1);
    await dest.close();
  });

  it("refuses an untrusted certificate instead of sending the password", async () => {
    const logins = () => sim.stats()["POST platformapi/core/security/login"] ?? 0;
    const before = logins();
    const dest = destination(sim);
    await expect(dest.prepare()).rejects.toMatchObject({
      code: "HTTP_CONNECTION",
      message: expect.stringMatching(/certificate/i),
    });
    expect(logins()).toBe(before); // the login request never reached the server
    await dest.close();
  });
});
