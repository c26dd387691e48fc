import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signApproval } from "../../src/crypto/sign/approval.js";
import { signEvent } from "../../src/crypto/sign/event.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import type { Digest } from "../../src/core/digest.js";
import type { AppendEventDeps } from "../../src/governance/events/append.js";
import type { WorkflowEvent } from "../../src/record/event.js";
import { devPki } from "./pki.js";

/*
 * A store and ledger of their own, and Li Lei's signed decisions (an approval assertion, stored,
 * and the event wrapping it), for the tests of appending events directly and through the daemon.
 */

const PKG = Buffer.from('{"a review package":true}');

export async function eventFixture() {
  const { pki, trust } = await devPki();
  const dir = await mkdtemp(join(tmpdir(), "sealgate-events-"));
  const store = await new FsObjectStore(dir).init();
  const ledger = await FileLedger.open(join(dir, "ledger"));
  const li = pki.approvers.find((a) => a.email === "li.lei@example.org")!;
  const signer = await loadSigner({ type: "pem", key: li.key, cert: li.cert }, "k", {});
  const pkg = await store.put(PKG);
  const deps: AppendEventDeps = {
    store,
    ledger,
    trust,
    sealing: [pki.sealing.fingerprint],
    maxClockSkew: 300,
  };
  /** An approval assertion (stored) and its event, both signed by Li Lei at `at`. */
  const decision = async (
    at: Date,
    o: { signedAt?: Date; decision?: "approve" | "reject" | "request-changes"; role?: string } = {},
  ) => {
    const assertionJws = await signApproval(
      {
        type: "sealgate.approval/1",
        model: "credit-risk",
        version: "3",
        packageDigest: pkg,
        role: o.role ?? "model-risk",
        decision: o.decision ?? "approve",
        comment: "",
        conditions: [],
        signedAt: (o.signedAt ?? at).toISOString(),
      },
      signer,
    );
    const assertion = await store.put(Buffer.from(assertionJws));
    const kind = { approve: "approval", reject: "rejection", "request-changes": "request-changes" } as const;
    const event: WorkflowEvent = {
      type: "sealgate.event/1",
      kind: kind[o.decision ?? "approve"],
      model: "credit-risk",
      version: "3",
      cycle: 1,
      actor: "li.lei@example.org",
      claimedTime: at.toISOString(),
      package: pkg,
      role: o.role ?? "model-risk",
      assertion,
    };
    return signEvent(event, signer);
  };
  return { dir, store, ledger, deps, signer, pkg, decision, pki, trust };
}

/**
 * A real signed event (sealgate's own, an alias move naming nothing), stored: what verify --store
 * now checks an event entry's object is. `n` makes each one distinct.
 */
export async function storeSampleEvent(
  store: { put(b: Uint8Array): Promise<Digest> },
  n = 0,
): Promise<Digest> {
  const { pki } = await devPki();
  const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
  const event: WorkflowEvent = {
    type: "sealgate.event/1",
    kind: "alias-move",
    model: "credit-risk",
    version: String(n + 1),
    cycle: 1,
    actor: "sealgate",
    claimedTime: new Date(Date.UTC(2026, 11, 5, 8, 0, n)).toISOString(),
    alias: "champion",
    from: null,
    record: null,
  };
  return store.put(Buffer.from((await signEvent(event, signer)).jws));
}
