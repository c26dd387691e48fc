import { describe, expect, it } from "vitest";
import type { VerifiedAssertion } from "../../src/policy/chain.js";
import { parsePolicy } from "../../src/policy/schema.js";
import { checkCandidate, checkPackage } from "../../src/governance/approvals/refusal.js";
import {
  conflictedParties,
  describeWait,
  type VersionStatus,
} from "../../src/governance/approvals/status.js";
import type { ReviewPackage } from "../../src/record/schema.js";

/*
 * approve's refusals without a registry: the version's registrant (MLflow's user_id) is
 * conflicted like a policy owner, and every refusal ends with the role the chain needs next.
 */

const PKG = `sha256:${"1".repeat(64)}`;
const policy = parsePolicy(
  Buffer.from(`
version: "t"
effectiveFrom: "2026-01-01T00:00:00Z"
tiers: { material: { chain: [data-governance, model-risk] } }
defaultTier: material
approvers:
  - { name: R, roles: [data-governance], email: Registrant@Example.org, effectiveFrom: "2026-01-01T00:00:00Z" }
owners: [owner@example.org]
`),
  "t",
).policy;

const candidate: VerifiedAssertion = {
  assertion: {
    type: "sealgate.approval/1",
    model: "m",
    version: "1",
    packageDigest: PKG,
    role: "data-governance",
    decision: "approve",
    comment: "",
    conditions: [],
    signedAt: "2026-03-01T10:00:00.000Z",
  },
  identity: {
    subject: "CN=R",
    email: "registrant@example.org",
    issuer: "CN=CA",
    fingerprint: "a".repeat(64),
  },
  jws: "",
};

const status = (state: VersionStatus["result"]["state"] = "pending_review"): VersionStatus => ({
  model: "m",
  version: "1",
  packageDigest: PKG,
  pkg: {
    materiality: { tier: "material", reasons: [], chain: ["data-governance", "model-risk"] },
  } as unknown as ReviewPackage,
  verified: [],
  result: {
    state,
    counted: [],
    ignored: [],
    nextRole: state === "pending_review" ? "data-governance" : null,
  },
  waitingSince: "2026-03-01T09:00:00.000Z",
});

const messageOf = (fn: () => void) => {
  try {
    fn();
    return "accepted";
  } catch (err) {
    return `${(err as { code: string }).code}: ${(err as Error).message}`;
  }
};

describe("approve's refusals", () => {
  it("counts the version's registrant as conflicted, like a policy owner", () => {
    expect(conflictedParties(policy, { createdBy: "registrant@example.org" })).toEqual([
      "owner@example.org",
      "registrant@example.org",
    ]);
    const now = new Date("2026-03-01T10:00:00Z");
    expect(messageOf(() => checkCandidate(status(), candidate, policy, { createdBy: undefined }, now))).toBe(
      "accepted",
    );
    expect(
      messageOf(() =>
        checkCandidate(status(), candidate, policy, { createdBy: "registrant@example.org" }, now),
      ),
    ).toBe(
      "APPROVAL_REFUSED: refused, nothing recorded: registrant@example.org as data-governance: separation of duties: registrant@example.org registered or owns this model; next: waiting for data-governance since 2026-03-01T09:00:00.000Z",
    );
  });

  it("refuses a stale package and a finished cycle, saying what is awaited", () => {
    expect(messageOf(() => checkPackage(status(), PKG))).toBe("accepted");
    expect(messageOf(() => checkPackage(status(), `sha256:${"2".repeat(64)}`))).toContain(
      `stale package: you reviewed sha256:${"2".repeat(64)}, the package of m v1 is now ${PKG}`,
    );
    const now = new Date("2026-03-01T10:00:00Z");
    expect(
      messageOf(() =>
        checkCandidate(status("changes_requested"), candidate, policy, { createdBy: undefined }, now),
      ),
    ).toBe(
      "APPROVAL_REFUSED: refused, nothing recorded: the review cycle of this package is already changes requested; next: changes requested since 2026-03-01T09:00:00.000Z: waiting for the ML team to resubmit (sealgate review)",
    );
    expect(describeWait(status("approved"))).toBe("approved: no role is awaited");
  });
});
