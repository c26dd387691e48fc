import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../src/dev/venv.js";
import type { SealgateError } from "../src/core/errors.js";
import { evaluateChain, type VerifiedAssertion } from "../src/policy/chain.js";
import { route } from "../src/policy/materiality.js";
import { loadPolicy, parsePolicy, type Policy } from "../src/policy/schema.js";

const policyYaml = `
version: "t"
effectiveFrom: "2026-01-01T00:00:00Z"
tiers: { low: { chain: [on-call] }, material: { chain: [data-governance, model-risk] } }
defaultTier: low
rules:
  - { kind: feature-set-change, tier: material }
  - { kind: flavor-change, tier: material }
  - { kind: metric-band, metric: auc, maxDrop: 0.02, maxRise: 0.05, tier: material }
  - { kind: population-shift, from: tag, name: psi, threshold: 0.2, tier: material }
  - { kind: new-deployment-context, tier: material }
  - { kind: dataset-not-content-addressed, tier: material }
  - { kind: feature-pipeline-change, tier: material }
approvers:
  - { name: A, roles: [on-call, data-governance], fingerprint: "${"a".repeat(64)}", effectiveFrom: "2026-01-01T00:00:00Z" }
  - { name: B, roles: [model-risk], fingerprint: "${"b".repeat(64)}", effectiveFrom: "2026-01-01T00:00:00Z", effectiveUntil: "2026-06-01T00:00:00Z" }
  - { name: C, roles: [model-risk], subject: "CN=C", issuer: "CN=CA", effectiveFrom: "2026-01-01T00:00:00Z" }
owners: [owner@example.org]
`;
const policy = (): Policy => parsePolicy(Buffer.from(policyYaml), "test").policy;

const facts = (over: object = {}) => ({
  features: ["income", "age"],
  flavors: ["sklearn", "python_function"],
  metrics: { auc: 0.9 },
  tags: {},
  deploymentContext: "retail",
  featurePipelineVersion: "fp-1",
  ...over,
});

describe("policy files", () => {
  it("accept the example in config/ and hash the exact bytes", async () => {
    const { policy: p, digest } = await loadPolicy(join(REPO_ROOT, "config/policy.example.yaml"));
    expect(p.tiers.material?.chain).toHaveLength(4);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(parsePolicy(await readFile(join(REPO_ROOT, "config/policy.example.yaml")), "x").digest).toBe(
      digest,
    );
  });

  it("name the path and the fix when wrong", () => {
    const bad = policyYaml.replace(
      "kind: flavor-change, tier: material",
      "kind: flavor-change, tier: committee",
    );
    const err = (() => {
      try {
        parsePolicy(Buffer.from(bad), "policy.yaml");
      } catch (e) {
        return e as SealgateError;
      }
    })();
    expect(err?.code).toBe("CONFIG_INVALID");
    expect(err?.message).toContain("rules.1.tier: tier committee is not defined under tiers");
  });
});

describe("materiality routing", () => {
  const incumbent = { ...facts(), deploymentContexts: ["retail"] };
  it("routes an unchanged retrain inside its band to the single low-tier role", () => {
    const r = route(policy(), {
      candidate: { ...facts({ metrics: { auc: 0.895 } }), datasetContentAddressed: true },
      incumbent,
    });
    expect(r).toEqual({ tier: "low", chain: ["on-call"], reasons: [] });
  });
  it.each([
    [{ features: ["income", "age", "tenure"] }, "feature set changed: +tenure"],
    [{ flavors: ["onnx"] }, "model class changed"],
    [{ metrics: { auc: 0.85 } }, "auc fell by"],
    [{ metrics: { auc: 0.99 } }, "auc rose by"],
    [{ tags: { psi: "0.31" } }, "population shift psi = 0.31"],
    [{ deploymentContext: "mortgages" }, "new deployment context: mortgages"],
    [{ featurePipelineVersion: "fp-2" }, "feature pipeline changed: fp-1 -> fp-2"],
  ])("routes %j to the full chain with the reason", (over, reason) => {
    const r = route(policy(), { candidate: { ...facts(over), datasetContentAddressed: true }, incumbent });
    expect(r.tier).toBe("material");
    expect(r.chain).toEqual(["data-governance", "model-risk"]);
    expect(r.reasons.join("; ")).toContain(reason);
  });
  it("routes a dataset without a content digest to the full chain", () => {
    const r = route(policy(), { candidate: { ...facts(), datasetContentAddressed: false }, incumbent });
    expect(r.reasons).toEqual(["evaluation dataset is not content-addressed"]);
  });
});

describe("role-sequenced approval chains", () => {
  const pkg = `sha256:${"1".repeat(64)}`;
  const who = (c: string, email = `${c}@example.org`) => ({
    subject: `CN=${c.toUpperCase()}`,
    email,
    issuer: "CN=CA",
    fingerprint: c.repeat(64),
  });
  const a = (
    role: string,
    person: "a" | "b" | "c",
    minute: number,
    decision: "approve" | "reject" | "request-changes" = "approve",
    packageDigest = pkg,
  ): VerifiedAssertion => ({
    assertion: {
      type: "sealgate.approval/1",
      model: "m",
      version: "1",
      packageDigest,
      role,
      decision,
      comment: "",
      conditions: [],
      signedAt: new Date(Date.parse("2026-03-01T10:00:00Z") + minute * 60_000).toISOString(),
    },
    identity: who(person),
    jws: "",
  });
  const ctx = {
    policy: policy(),
    chain: ["data-governance", "model-risk"],
    packageDigest: pkg,
    conflicted: ["owner@example.org"],
    now: new Date("2026-03-02T00:00:00Z"),
  };
  const evalWith = (list: VerifiedAssertion[], over: object = {}) => evaluateChain(list, { ...ctx, ...over });

  it("approves when every role approves in order", () => {
    const r = evalWith([a("model-risk", "c", 2), a("data-governance", "a", 1)]);
    expect(r.state).toBe("approved");
    expect(r.counted.map((x) => x.assertion.role)).toEqual(["data-governance", "model-risk"]);
  });

  it("does not count an approval out of order, and says so", () => {
    const r = evalWith([a("model-risk", "c", 1), a("data-governance", "a", 2)]);
    expect(r.state).toBe("pending_review");
    expect(r.nextRole).toBe("model-risk");
    expect(r.ignored[0]?.reason).toBe("out of order: model-risk signed before data-governance had decided");
  });

  it("ends the cycle on a rejection and pauses it on request-changes", () => {
    expect(evalWith([a("data-governance", "a", 1, "reject"), a("model-risk", "c", 2)]).state).toBe(
      "rejected",
    );
    const paused = evalWith([a("data-governance", "a", 1, "request-changes"), a("model-risk", "c", 2)]);
    expect(paused.state).toBe("changes_requested");
    expect(paused.ignored[0]?.reason).toContain("after the cycle was changes requested");
  });

  it("keeps approvals of a changed package in the history but never counts them", () => {
    const r = evalWith([
      a("data-governance", "a", 1, "approve", `sha256:${"9".repeat(64)}`),
      a("data-governance", "a", 2),
    ]);
    expect(r.counted).toHaveLength(1);
    expect(r.ignored[0]?.reason).toMatch(/^stale: signed package sha256:9+/);
  });

  it("refuses approvers without authority then or now, and enforces separation of duties", () => {
    const expired = evalWith([a("data-governance", "a", 1), a("model-risk", "b", 2)], {
      now: new Date("2026-07-01T00:00:00Z"),
    });
    expect(expired.ignored.map((x) => x.reason)).toContain(
      "b@example.org no longer has authority as model-risk",
    );
    const late = evalWith([
      a("data-governance", "a", 1),
      {
        ...a("model-risk", "b", 2),
        assertion: { ...a("model-risk", "b", 2).assertion, signedAt: "2026-06-02T00:00:00.000Z" },
      },
    ]);
    expect(late.ignored[0]?.reason).toContain("had no authority as model-risk at 2026-06-02");
    const unknown = evalWith([{ ...a("data-governance", "a", 1), identity: who("d") }]);
    expect(unknown.ignored[0]?.reason).toContain("d@example.org had no authority");
    const twice = evaluateChain([a("data-governance", "a", 1), { ...a("model-risk", "a", 2) }], {
      ...ctx,
      policy: {
        ...ctx.policy,
        approvers: ctx.policy.approvers.map((x) =>
          x.name === "A" ? { ...x, roles: [...x.roles, "model-risk"] } : x,
        ),
      },
    });
    expect(twice.ignored[0]?.reason).toBe(
      "separation of duties: a@example.org already filled a role in this record (person a@example.org)",
    );
    const owner = evalWith([
      { ...a("data-governance", "a", 1), identity: { ...who("a"), email: "owner@example.org" } },
    ]);
    expect(owner.ignored[0]?.reason).toContain("registered or owns this model");
  });
});
