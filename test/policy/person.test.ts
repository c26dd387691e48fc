import { describe, expect, it } from "vitest";
import { issueCertificate, type Issued } from "../../src/crypto/pki/issue.js";
import { toKeyObject } from "../../src/crypto/pki/keys.js";
import type { Trust } from "../../src/crypto/pki/trust.js";
import { OID, x509 } from "../../src/crypto/pki/x509.js";
import { type ApproverIdentity, signApproval, verifyApproval } from "../../src/crypto/sign/approval.js";
import { KeySigner } from "../../src/crypto/sign/key-signer.js";
import { evaluateChain } from "../../src/policy/chain.js";
import { isConflicted, personOf } from "../../src/policy/person.js";
import { parsePolicy, type Policy } from "../../src/policy/schema.js";

/*
 * Separation of duties by person: a renewed certificate (same email, new key) is the same
 * person. Certificates here are real, issued by a throwaway CA, so identities come from
 * verifying the signed approvals exactly as the sealer does.
 */

const DAY = 86_400_000;
const PKG = `sha256:${"1".repeat(64)}`;
const ISSUER = "CN=Person Test CA, O=Sealgate Test";

function policyWith(approvers: string): Policy {
  return parsePolicy(
    Buffer.from(`
version: "t"
effectiveFrom: "2026-01-01T00:00:00Z"
tiers: { material: { chain: [data-governance, model-risk] } }
defaultTier: material
approvers:
${approvers}
owners: [Owner@Example.org]
`),
    "test",
  ).policy;
}

async function testCa() {
  const root = await issueCertificate({
    subject: ISSUER,
    spec: "ec-p256",
    notBefore: new Date(Date.now() - 10 * DAY),
    notAfter: new Date(Date.now() + 100 * DAY),
    ca: { pathLength: 0 },
    keyUsage: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
  });
  const trust: Trust = { anchors: [root.cert], intermediates: [], crls: [] };
  const person = async (name: string, email: string): Promise<Issued> =>
    issueCertificate({
      subject: `CN=${name}, O=Sealgate Test`,
      spec: "ec-p256",
      issuer: { cert: root.cert, key: root.keys.privateKey, spec: "ec-p256" },
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 30 * DAY),
      keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
      eku: { oids: [OID.emailProtection, OID.clientAuth] },
      emails: [email],
    });
  return { trust, person };
}

async function approval(who: Issued, role: string, minute: number, trust: Trust) {
  const signer = new KeySigner(await toKeyObject(who.keys.privateKey), [who.cert]);
  const jws = await signApproval(
    {
      type: "sealgate.approval/1",
      model: "m",
      version: "1",
      packageDigest: PKG,
      role,
      decision: "approve",
      comment: "",
      conditions: [],
      signedAt: new Date(Date.now() - 3600_000 + minute * 60_000).toISOString(),
    },
    signer,
  );
  return verifyApproval(jws, trust);
}

const ctx = (policy: Policy) => ({
  policy,
  chain: ["data-governance", "model-risk"],
  packageDigest: PKG,
  conflicted: policy.owners,
  now: new Date(),
});

describe("separation of duties by person", () => {
  it("refuses a renewed certificate (same email, new key) of someone who already filled a role", async () => {
    const { trust, person } = await testCa();
    const li = await person("Li Lei", "li.lei@example.org");
    const renewed = await person("Li Lei", "LI.LEI@example.org");
    const zoe = await person("Zoe", "zoe@example.org");
    const policy = policyWith(`
  - { name: Li, roles: [data-governance, model-risk], email: li.lei@example.org, effectiveFrom: "2026-01-01T00:00:00Z" }
  - { name: Zoe, roles: [model-risk], email: zoe@example.org, effectiveFrom: "2026-01-01T00:00:00Z" }`);
    const first = await approval(li, "data-governance", 1, trust);
    const second = await approval(renewed, "model-risk", 2, trust);
    expect(first.identity.fingerprint).not.toBe(second.identity.fingerprint);
    const r = evaluateChain([first, second], ctx(policy));
    expect(r.state).toBe("pending_review");
    expect(r.nextRole).toBe("model-risk");
    expect(r.ignored.map((i) => i.reason)).toEqual([
      "separation of duties: LI.LEI@example.org already filled a role in this record (person li.lei@example.org)",
    ]);
    const done = evaluateChain([first, await approval(zoe, "model-risk", 3, trust)], ctx(policy));
    expect(done.state).toBe("approved");
  });

  it("ties certificates with different subjects to one person through a shared id", async () => {
    const { trust, person } = await testCa();
    const a = await person("Ada Lovelace", "ada@example.org");
    const b = await person("Ada King", "ada.king@example.org");
    const policy = policyWith(`
  - { name: Ada, id: emp-1815, roles: [data-governance], subject: "CN=Ada Lovelace, O=Sealgate Test", issuer: "${ISSUER}", effectiveFrom: "2026-01-01T00:00:00Z" }
  - { name: Ada (married name), id: emp-1815, roles: [model-risk], email: ada.king@example.org, effectiveFrom: "2026-01-01T00:00:00Z" }`);
    const r = evaluateChain(
      [await approval(a, "data-governance", 1, trust), await approval(b, "model-risk", 2, trust)],
      ctx(policy),
    );
    expect(r.counted).toHaveLength(1);
    expect(r.ignored[0]?.reason).toContain("(person emp-1815)");
  });

  it("refuses a certificate matching no entry, or entries of two people, with the reason", async () => {
    const { trust, person } = await testCa();
    const li = await approval(await person("Li Lei", "li.lei@example.org"), "data-governance", 1, trust);
    const none = evaluateChain(
      [li],
      ctx(
        policyWith(`
  - { name: Z, roles: [data-governance], email: zoe@example.org, effectiveFrom: "2026-01-01T00:00:00Z" }`),
      ),
    );
    expect(none.ignored[0]?.reason).toBe(
      'li.lei@example.org had no authority: certificate "CN=Li Lei, O=Sealgate Test" <li.lei@example.org> matches no approver registry entry',
    );
    const two = policyWith(`
  - { name: Li, id: p1, roles: [data-governance], email: li.lei@example.org, effectiveFrom: "2026-01-01T00:00:00Z" }
  - { name: Li again, id: p2, roles: [model-risk], subject: "CN=Li Lei, O=Sealgate Test", issuer: "${ISSUER}", effectiveFrom: "2026-01-01T00:00:00Z" }`);
    expect(personOf(two, li.identity)).toEqual({
      ok: false,
      reason:
        'certificate "CN=Li Lei, O=Sealgate Test" <li.lei@example.org> matches registry entries of 2 people (p1, p2); the registry must name one person per certificate',
    });
    expect(evaluateChain([li], ctx(two)).ignored[0]?.reason).toContain(
      "matches registry entries of 2 people",
    );
  });

  it("matches every selector an entry gives: email ignoring ASCII case, subject and issuer exactly", () => {
    const id: ApproverIdentity = {
      subject: "CN=Li Lei, O=Sealgate Test",
      email: "Li.Lei@Example.ORG",
      issuer: ISSUER,
      fingerprint: "a".repeat(64),
    };
    const match = (entry: string) => personOf(policyWith(`  - ${entry}`), id);
    const base = 'name: x, roles: [model-risk], effectiveFrom: "2026-01-01T00:00:00Z"';
    expect(match(`{ ${base}, email: li.lei@example.org }`)).toMatchObject({
      ok: true,
      person: "li.lei@example.org",
    });
    expect(
      match(
        `{ ${base}, email: li.lei@example.org, subject: "CN=Li Lei, O=Sealgate Test", issuer: "${ISSUER}" }`,
      ).ok,
    ).toBe(true);
    // Subjects are compared exactly: a different case or spacing is another name.
    expect(match(`{ ${base}, subject: "CN=li lei, O=Sealgate Test", issuer: "${ISSUER}" }`).ok).toBe(false);
    expect(match(`{ ${base}, email: li.lei@example.org, fingerprint: "${"b".repeat(64)}" }`).ok).toBe(false);
    // A subject entry without an email or id is the person the certificate's email names.
    expect(match(`{ ${base}, subject: "CN=Li Lei, O=Sealgate Test", issuer: "${ISSUER}" }`)).toMatchObject({
      person: "li.lei@example.org",
    });
  });

  it("treats an owner as conflicted by any email or id the registry gives that person", () => {
    const policy = policyWith(`
  - { name: O, id: emp-7, roles: [model-risk], email: owner@example.org, effectiveFrom: "2026-01-01T00:00:00Z" }
  - { name: O2, id: emp-7, roles: [data-governance], email: o.two@example.org, effectiveFrom: "2026-01-01T00:00:00Z" }`);
    const id: ApproverIdentity = {
      subject: "CN=O",
      email: "o.two@example.org",
      issuer: ISSUER,
      fingerprint: "c".repeat(64),
    };
    expect(isConflicted(policy, id, "emp-7", policy.owners)).toBe(true);
    expect(isConflicted(policy, id, "emp-7", ["someone@example.org"])).toBe(false);
    expect(isConflicted(policy, id, "emp-7", ["emp-7"])).toBe(true);
  });
});
