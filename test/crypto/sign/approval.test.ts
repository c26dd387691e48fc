import { describe, expect, it } from "vitest";
import { BAD_CERTS } from "../../../src/crypto/pki/dev-pki.js";
import type { SealgateError } from "../../../src/core/errors.js";
import { b64u } from "../../../src/crypto/sign/base64.js";
import { type ApprovalAssertion, signApproval, verifyApproval } from "../../../src/crypto/sign/approval.js";
import { loadSigner } from "../../../src/crypto/sign/load.js";
import { devPki } from "../../support/pki.js";

const assertion = (over: Partial<ApprovalAssertion> = {}): ApprovalAssertion => ({
  type: "sealgate.approval/1",
  model: "credit-risk",
  version: "3",
  packageDigest: `sha256:${"ab".repeat(32)}`,
  role: "model-risk",
  decision: "approve",
  comment: "Deltas within band; fairness slice reviewed. — 李雷",
  conditions: ["scope: retail lending EU", "re-review after 180 days"],
  signedAt: new Date().toISOString(),
  ...over,
});
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "valid",
    (e: SealgateError) => e.code,
  );

async function approver(i = 2) {
  const { pki, trust } = await devPki();
  const a = pki.approvers[i]!;
  return { a, trust, signer: await loadSigner({ type: "pem", key: a.key, cert: a.cert }, "k", {}) };
}

describe("approver e-signatures", () => {
  it("bind the decision to the certificate identity, not a typed name", async () => {
    const { a, trust, signer } = await approver();
    const jws = await signApproval(assertion(), signer);
    expect(jws.split(".")).toHaveLength(3);
    const v = await verifyApproval(jws, trust);
    expect(v.identity.email).toBe("li.lei@example.org");
    expect(v.identity.subject).toContain("CN=李雷");
    expect(v.identity.fingerprint).toBe(a.fingerprint);
    expect(v.assertion.decision).toBe("approve");
  });

  it("refuse an edited assertion (the hand-edited tag case)", async () => {
    const { trust, signer } = await approver();
    const [h, , s] = (await signApproval(assertion(), signer)).split(".");
    const edited = b64u(JSON.stringify(assertion({ decision: "approve", role: "ai-committee" })));
    expect(await codeOf(verifyApproval(`${h}.${edited}.${s}`, trust))).toBe("SIGNATURE_INVALID");
  });

  it.each(BAD_CERTS)("refuse an approval signed with the %s certificate", async (name) => {
    const { pki, trust } = await devPki();
    const signer = await loadSigner(
      { type: "pem", key: pki.bad[name].key, cert: pki.bad[name].cert },
      "k",
      {},
    );
    const signedAt = name === "expired" ? new Date(Date.now() - 400 * 86_400_000) : new Date();
    const code = await codeOf(
      verifyApproval(await signApproval(assertion({ signedAt: signedAt.toISOString() }), signer), trust),
    );
    // Signed while the certificate was valid, the expired one is still good evidence of that past act.
    if (name === "expired") expect(code).toBe("valid");
    else expect(code).toMatch(/^CERT_/);
  });

  it("refuse an approval dated when the certificate had expired", async () => {
    const { pki, trust } = await devPki();
    const signer = await loadSigner(
      { type: "pem", key: pki.bad.expired.key, cert: pki.bad.expired.cert },
      "k",
      {},
    );
    expect(await codeOf(verifyApproval(await signApproval(assertion(), signer), trust))).toBe("CERT_EXPIRED");
  });

  it("refuse a TSA key posing as an approver (no approval EKU) and a malformed assertion", async () => {
    const { pki, trust } = await devPki();
    const tsa = await loadSigner({ type: "pem", key: pki.tsa.key, cert: pki.tsa.cert }, "k", {});
    expect(await codeOf(verifyApproval(await signApproval(assertion(), tsa), trust))).toBe(
      "CERT_BAD_EXTENDED_KEY_USAGE",
    );
    await expect(signApproval({ ...assertion(), decision: "maybe" } as never, tsa)).rejects.toThrow();
    expect(await codeOf(verifyApproval("not.a.jws", trust))).toBe("SIGNATURE_MALFORMED");
  });

  it("refuse an approval signed with the sealing key, though its certificate has emailProtection", async () => {
    const { pki, trust } = await devPki();
    const sealing = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
    expect(await codeOf(verifyApproval(await signApproval(assertion(), sealing), trust))).toBe(
      "CERT_BAD_EXTENDED_KEY_USAGE",
    );
  });
});
