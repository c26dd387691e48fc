import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parsePemCertificates, subtle, x509 } from "../../../src/crypto/pki/x509.js";

/*
 * Names as sealgate renders them (FORMAT.md section 2): the registry's `subject`/`issuer`
 * selectors and the identities in records are these strings, so an auditor must be able to
 * produce them without sealgate. The one openssl command FORMAT.md gives must print the same.
 */

const run = promisify(execFile);
const NAMEOPT = "esc_2253,utf8,sep_comma_plus_space,sname";

async function certWith(name: x509.JsonName): Promise<string> {
  const keys = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: new x509.Name(name),
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    keys,
  });
  return cert.toString("pem");
}

async function opensslSubject(pem: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sealgate-names-"));
  await writeFile(join(dir, "c.pem"), pem);
  const { stdout } = await run("openssl", [
    "x509",
    "-in",
    join(dir, "c.pem"),
    "-noout",
    "-subject",
    "-nameopt",
    NAMEOPT,
  ]);
  return stdout.trim().replace(/^subject=/, "");
}

describe("certificate names", () => {
  it("render in certificate order, ', ' between RDNs, RFC 4514 escapes, as openssl prints them", async () => {
    const pem = await certWith([
      { C: ["GB"] },
      { O: ["Acme, Inc."] },
      { OU: ["Model Risk"] },
      { CN: [" #Zoë+1 <x>;"] },
    ]);
    const [cert] = parsePemCertificates(pem, "test");
    const ours = cert!.subject;
    expect(ours).toBe("C=GB, O=Acme\\, Inc., OU=Model Risk, CN=\\ #Zoë\\+1 \\<x\\>\\;");
    expect(ours).toBe(await opensslSubject(pem));
  });

  it("differ from openssl's only in the two documented places: E for emailAddress, '+' between AVAs", async () => {
    const pem = await certWith([{ CN: ["Ada Lovelace"], E: ["ada@example.com"] }]);
    const [cert] = parsePemCertificates(pem, "test");
    expect(cert!.subject).toBe("CN=Ada Lovelace+E=ada@example.com");
    expect(await opensslSubject(pem)).toBe("CN=Ada Lovelace + emailAddress=ada@example.com");
  });
});
