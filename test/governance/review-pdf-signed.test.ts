import { afterEach, describe, expect, it } from "vitest";
import type { Digest } from "../../src/core/digest.js";
import { readApprovalTags } from "../../src/governance/approvals/approval-tags.js";
import type { PromotionRecord } from "../../src/record/schema.js";
import { cloneModel, MATERIAL_CHAIN, workspace } from "../support/workflow.js";

/*
 * Approvers saw what they signed (issue 21 item 7): `approve` signs the digest of the review PDF
 * `review` stored for the package, and the sealer counts a decision naming a review PDF only if
 * it is that one, so the document each approver signed off is the one an auditor opens.
 */

type Ws = Awaited<ReturnType<typeof workspace>>;
let open: Ws[] = [];
afterEach(async () => {
  for (const w of open) await w.close();
  open = [];
});

describe("the review PDF an approval signs", () => {
  it("is the stored review PDF of the package; a decision naming another is left out with the reason", async () => {
    const w = await workspace();
    open.push(w);
    const name = await cloneModel(w.client, "credit-risk", ["1", "3"], "1");
    await w.review(name, "2", "adds tenure_months");
    const shown = (await w.tags(name, "2"))["sealgate.package_pdf"]!;
    expect(shown).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(
      Buffer.from(await w.deps.store.get(shown as Digest))
        .subarray(0, 5)
        .toString(),
    ).toBe("%PDF-");

    const [first, ...rest] = MATERIAL_CHAIN;
    const r = await w.approve(name, "2", first![0], first![1]);
    expect(r.err).toBe("");
    expect(r.out).toContain(`review PDF ${shown} (signed: the document you were shown)`);
    const [tag] = await readApprovalTags(await w.tags(name, "2"), w.deps.store);
    const payload = JSON.parse(Buffer.from(tag!.jws.split(".")[1]!, "base64url").toString()) as {
      reviewPdf?: string;
    };
    expect(payload.reviewPdf).toBe(shown);

    // The next role's decision claims a different PDF (a stored object, but not this package's
    // review PDF): it does not count, and the chain still waits for that role.
    const other = await w.deps.store.put(Buffer.from("%PDF-1.7 another document\n"));
    await w.plant(name, "2", rest[0]![0], rest[0]![1], "approve", { reviewPdf: other });
    const waiting = await w.seal(name, "2");
    expect(waiting).toMatchObject({ outcome: "waiting", nextRole: rest[0]![0] });
    expect((waiting as { ignored: string[] }).ignored).toContainEqual(
      expect.stringContaining(`signed review PDF ${other}, not the package's review PDF ${shown}`),
    );

    for (const [role, email] of rest) expect((await w.approve(name, "2", role, email)).err).toBe("");
    const sealed = await w.seal(name, "2");
    expect(sealed).toMatchObject({ outcome: "sealed", decision: "approved" });
    const record = JSON.parse(
      Buffer.from(await w.deps.store.get((sealed as { record: string }).record as Digest)).toString(),
    ) as PromotionRecord;
    expect(record.approvals.map((a) => a.role)).toEqual(MATERIAL_CHAIN.map(([role]) => role));
  });
});
