import { readFile, writeFile } from "node:fs/promises";
import { issueCertificate } from "../../src/crypto/pki/issue.js";
import { pkcs8Pem, toKeyObject } from "../../src/crypto/pki/keys.js";
import { OID, x509 } from "../../src/crypto/pki/x509.js";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readApprovalTags } from "../../src/governance/approvals/approval-tags.js";
import { verifyApproval } from "../../src/crypto/sign/approval.js";
import { cli } from "../support/cli.js";
import { cloneModel, MATERIAL_CHAIN, workspace } from "../support/workflow.js";

/*
 * `sealgate approve` on the real MLflow server, each case on its own copy of a seeded model:
 * what it signs and records, and what it refuses at once, writing nothing.
 */

type Ws = Awaited<ReturnType<typeof workspace>>;
let open: Ws[] = [];
const ws = async (o?: Parameters<typeof workspace>[0]) => {
  const w = await workspace(o);
  open.push(w);
  return w;
};
afterEach(async () => {
  for (const w of open) await w.close();
  open = [];
});

const approvalKeys = async (w: Ws, name: string) =>
  Object.keys(await w.tags(name, "2")).filter((k) => k.startsWith("sealgate.approval."));

describe("sealgate approve", () => {
  it("signs the recorded package digest with the approver's certificate and records it as a tag, inline or by reference", async () => {
    const w = await ws();
    const name = await cloneModel(w.client, "credit-risk", ["1", "3"], "1");
    const noPackage = await w.approve(name, "2", "data-governance", "zoe.angstrom@example.org");
    expect(noPackage.code).toBe(2);
    expect(noPackage.err).toContain("run sealgate review first");
    const { package: pkg } = await w.review(name, "2");

    const zoe = w.person("zoe.angstrom@example.org");
    const pass = (await readFile(w.pki.p12Passphrase.slice(5), "utf8")).trim();
    const r = await cli(
      [
        "approve",
        "--config",
        w.cfg,
        "--model",
        name,
        "--version",
        "2",
        "--role",
        "data-governance",
        "--decision",
        "approve",
        "--comment",
        "审阅完毕",
        "--package",
        pkg,
        "--p12",
        zoe.p12,
        "--passphrase",
        "${P12}",
        "--json",
      ],
      { P12: pass },
    );
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      byReference: false,
      identity: { email: "zoe.angstrom@example.org" },
      assertion: { packageDigest: pkg, role: "data-governance" },
    });

    const small = join(w.dir, "small.yaml");
    await writeFile(small, `${await readFile(w.cfg, "utf8")}approvals: { tagValueLimit: 100 }\n`);
    const li = w.person("li.lei@example.org");
    const byRef = await cli([
      "approve",
      "--config",
      small,
      "--model",
      name,
      "--version",
      "2",
      "--role",
      "model-risk",
      "--decision",
      "request-changes",
      "--key",
      li.key,
      "--cert",
      li.cert,
      "--json",
    ]);
    expect(byRef.err).toBe("");
    expect(JSON.parse(byRef.out).byReference).toBe(true);

    const approvals = await readApprovalTags(await w.tags(name, "2"), w.deps.store);
    const verified = await Promise.all(approvals.map((a) => verifyApproval(a.jws, w.trust)));
    expect(verified.map((v) => v.assertion.decision).sort()).toEqual(["approve", "request-changes"]);
  });

  it("refuses at once, with the reason and the next role, writing nothing", async () => {
    const w = await ws({ owners: ["aegir.thorsson@example.org"] });
    const name = await cloneModel(w.client, "credit-risk", ["1", "3"], "1");
    const { package: pkg } = await w.review(name, "2");
    // The workspace's config has no CRL; this one does, so a revoked certificate is known.
    const withCrl = join(w.dir, "crl.yaml");
    await writeFile(
      withCrl,
      (await readFile(w.cfg, "utf8")).replace(
        /intermediates: ([^ ]+) }/,
        `intermediates: $1, crls: [${w.pki.trust.crl}] }`,
      ),
    );
    const as = (config: string, role: string, id: { key: string; cert: string }, ...extra: string[]) =>
      cli([
        "approve",
        "--config",
        config,
        "--model",
        name,
        "--version",
        "2",
        "--role",
        role,
        "--decision",
        "approve",
        "--key",
        id.key,
        "--cert",
        id.cert,
        ...extra,
      ]);
    const next = /next: waiting for data-governance since \d{4}-\d\d-\d\dT/;
    const cases: [Promise<{ code: number; err: string }>, string][] = [
      [as(w.cfg, "data-governance", w.pki.bad.expired), "CN=Expired Approver"],
      [as(withCrl, "data-governance", w.pki.bad.revoked), "revoked"],
      [
        as(w.cfg, "model-risk", w.person("li.lei@example.org")),
        "out of order: model-risk signed before data-governance had decided",
      ],
      [
        as(w.cfg, "data-governance", w.person("li.lei@example.org")),
        "li.lei@example.org had no authority as data-governance",
      ],
      [
        as(w.cfg, "auditor", w.person("zoe.angstrom@example.org")),
        "role auditor is not in this tier's chain",
      ],
      [
        as(
          w.cfg,
          "data-governance",
          w.person("zoe.angstrom@example.org"),
          "--package",
          `sha256:${"0".repeat(64)}`,
        ),
        `stale package: you reviewed sha256:${"0".repeat(64)}, the package of ${name} v2 is now ${pkg}`,
      ],
    ];
    for (const [run, reason] of cases) {
      const r = await run;
      expect(r.code, r.err).toBe(1);
      expect(r.err).toContain("refused, nothing recorded");
      expect(r.err).toContain(reason);
      expect(r.err).toMatch(next);
    }
    expect(await approvalKeys(w, name)).toEqual([]);

    // Further along the chain: the owner may not approve, and the next role moves on.
    for (const [role, email] of MATERIAL_CHAIN.slice(0, 2))
      expect((await w.approve(name, "2", role, email)).err).toBe("");
    const owner = await w.approve(name, "2", "fair-lending", "aegir.thorsson@example.org");
    expect(owner.code).toBe(1);
    expect(owner.err).toContain(
      "separation of duties: aegir.thorsson@example.org registered or owns this model",
    );
    expect(owner.err).toMatch(/next: waiting for fair-lending since \d{4}-/);
    expect(await approvalKeys(w, name)).toHaveLength(2);
  });

  it("refuses a decision once the cycle has ended", async () => {
    const w = await ws();
    const name = await cloneModel(w.client, "credit-risk", ["1", "2"], "1");
    await w.review(name, "2");
    expect((await w.approve(name, "2", "on-call", "ada.lovelace@example.org", "reject")).err).toBe("");
    const r = await w.approve(name, "2", "on-call", "ada.lovelace@example.org");
    expect(r.code).toBe(1);
    expect(r.err).toContain("the review cycle of this package is already rejected");
    expect(r.err).toContain("next: rejected: no role is awaited");
  });

  it("refuses a renewed certificate (same email, new key) of a person who already filled a role", async () => {
    const w = await ws();
    const name = await cloneModel(w.client, "credit-risk", ["1", "3"], "1");
    await w.review(name, "2");
    // The renewal comes from a second CA the organisation also trusts: new key, new issuer, same email.
    const DAY = 86_400_000;
    const ca = await issueCertificate({
      subject: "CN=Renewal CA, O=Sealgate Demo Org",
      spec: "ec-p256",
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 30 * DAY),
      ca: { pathLength: 0 },
      keyUsage: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    });
    const renewed = await issueCertificate({
      subject: "CN=李雷, O=Sealgate Demo Org",
      spec: "ec-p256",
      issuer: { cert: ca.cert, key: ca.keys.privateKey, spec: "ec-p256" },
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 30 * DAY),
      keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
      eku: { oids: [OID.emailProtection, OID.clientAuth] },
      emails: ["Li.Lei@example.org"],
    });
    const files = { key: join(w.dir, "renewed.key"), cert: join(w.dir, "renewed.pem") };
    await writeFile(files.key, pkcs8Pem(await toKeyObject(renewed.keys.privateKey)));
    await writeFile(files.cert, renewed.cert.toString("pem"));
    const anchors = join(w.dir, "anchors.pem");
    await writeFile(anchors, `${await readFile(w.pki.trust.anchors, "utf8")}\n${ca.cert.toString("pem")}\n`);
    // Li Lei by email, in both roles: whichever certificate he signs with, he is one person.
    const policy = join(w.dir, "policy-renewed.yaml");
    await writeFile(
      policy,
      (await readFile(join(w.dir, "policy.yaml"), "utf8")).replace(
        "approvers:\n",
        'approvers:\n  - { name: Li Lei, roles: [data-governance, model-risk], email: li.lei@example.org, effectiveFrom: "2026-01-01T00:00:00Z" }\n',
      ),
    );
    const cfg = join(w.dir, "renewed.yaml");
    await writeFile(
      cfg,
      (await readFile(w.cfg, "utf8"))
        .replace("policy: policy.yaml", "policy: policy-renewed.yaml")
        .replace(`anchors: ${w.pki.trust.anchors}`, `anchors: ${anchors}`),
    );
    const li = w.person("li.lei@example.org");
    const as = (role: string, id: { key: string; cert: string }) =>
      cli([
        "approve",
        "--config",
        cfg,
        "--model",
        name,
        "--version",
        "2",
        "--role",
        role,
        "--decision",
        "approve",
        "--key",
        id.key,
        "--cert",
        id.cert,
      ]);
    expect((await as("data-governance", li)).err).toBe("");
    const second = await as("model-risk", files);
    expect(second.code).toBe(1);
    expect(second.err).toContain(
      "separation of duties: Li.Lei@example.org already filled a role in this record (person li.lei@example.org)",
    );
    expect(second.err).toMatch(/next: waiting for model-risk since /);
    expect(await approvalKeys(w, name)).toHaveLength(1);
  });
});
