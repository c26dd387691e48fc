import { describe, expect, it } from "vitest";
import { renderPending } from "../../src/cli/commands/pending.js";
import { formatWait, type PendingItem } from "../../src/governance/approvals/pending.js";
import { cli } from "../support/cli.js";
import { cloneModel, workspace } from "../support/workflow.js";

/*
 * `sealgate pending` and sync's wait line on the real MLflow server: the role awaited moves
 * along the chain as people approve, --role filters, and request-changes hands it to the ML team.
 */

describe("sealgate pending", () => {
  it("lists what awaits which role, and sync says which role it waits for since when", async () => {
    const own = `copy-credit-risk-pending-${Math.random().toString(36).slice(2, 8)}`;
    const w = await workspace({ models: [own] });
    await w.deps.ledger.close(); // sync takes the ledger's single-writer lock itself
    try {
      const name = await cloneModel(w.client, "credit-risk", ["1", "3"], "1", own);
      expect(JSON.parse((await w.run(["pending", "--json"])).out)).toEqual({ pending: [], unreadable: [] });
      const { package: pkg } = await w.review(name, "2", "Adds tenure_months\nsecond line is not shown");

      const first = await w.run(["pending"]);
      expect(first.code).toBe(0);
      const lines = first.out.split("\n");
      expect(lines[0]).toBe("1 version awaits a decision");
      expect(lines[1]).toMatch(/^ {2}ROLE +MODEL +VERSION +TIER +WAITING +SINCE +REQUEST$/);
      expect(lines[2]).toMatch(
        new RegExp(
          `^  data-governance  ${name}  2 +material  under a minute  \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  Adds tenure_months$`,
        ),
      );

      expect((await w.approve(name, "2", "data-governance", "zoe.angstrom@example.org")).err).toBe("");
      const json = JSON.parse((await w.run(["pending", "--json", "--role", "model-risk"])).out);
      expect(json.pending).toHaveLength(1);
      const item = json.pending[0] as PendingItem;
      expect(item).toMatchObject({
        model: name,
        version: "2",
        package: pkg,
        request: "Adds tenure_months",
        tier: "material",
        state: "pending_review",
        nextRole: "model-risk",
        decided: ["data-governance"],
      });
      expect(item.waitedSeconds).toBeGreaterThanOrEqual(0);
      expect((await w.run(["pending", "--role", "data-governance"])).out).toBe(
        "nothing awaits data-governance\n",
      );

      const sync = await w.run(["sync", "--no-push"]);
      expect(sync.code).toBe(0);
      expect(sync.out).toContain(`  ${name} v2: waiting for model-risk since ${item.since}\n`);
      expect((await w.approve(name, "2", "model-risk", "li.lei@example.org", "request-changes")).err).toBe(
        "",
      );
      const changes = await w.run(["pending"]);
      expect(changes.out).toMatch(new RegExp(`^  ML team +${name}  2 +material`, "m"));
      expect(JSON.parse((await w.run(["pending", "--json"])).out).pending[0]).toMatchObject({
        state: "changes_requested",
        nextRole: null,
        decided: ["data-governance", "model-risk"],
      });
    } finally {
      await w.close();
    }
  });

  it("--help shows an example", async () => {
    const help = await cli(["pending", "--help"]);
    expect(help.out).toContain("$ sealgate pending --config sealgate.yaml --role model-risk");
  });
});

describe("pending output", () => {
  it("formats waits and says when nothing awaits", () => {
    expect([59, 60, 3599, 3600 * 5 + 300, 86400 * 3 + 3600 * 4].map(formatWait)).toEqual([
      "under a minute",
      "1m",
      "59m",
      "5h 5m",
      "3d 4h",
    ]);
    expect(renderPending({ pending: [], unreadable: [] })).toBe("nothing awaits a decision\n");
    expect(
      renderPending({ pending: [], unreadable: [{ model: "m", version: "1", error: "gone" }] }, "x"),
    ).toBe("nothing awaits x\n  m v1: cannot read its review: gone\n");
  });
});
