import type { PromotionRecord } from "../record/schema.js";

/*
 * What an approval's conditions and the sealed model card allow: expiry, re-review, targets.
 * The gate enforces them; the sealer uses them to show an approval as expired in the registry.
 */

/** Conditions sealgate enforces, written by approvers with --condition. */
export function conditionViolations(
  conditions: string[],
  sealedAt: Date,
  now: Date,
  target?: string,
): string[] {
  const out: string[] = [];
  for (const c of conditions) {
    const body = c.replace(/^[a-z-]+:\s*(?=re-review|expires|targets)/i, "");
    const expires = /^expires:?\s*(\d{4}-\d\d-\d\d)/i.exec(body);
    if (expires && now >= new Date(`${expires[1]}T00:00:00Z`))
      out.push(`approval expired on ${expires[1]} (condition "${c}")`);
    const review = /^re-review after (\d+) days?/i.exec(body);
    if (review && now.getTime() > sealedAt.getTime() + Number(review[1]) * 86_400_000) {
      out.push(`re-review was due ${review[1]} days after sealing (condition "${c}")`);
    }
    const targets = /^targets?:\s*(.+)$/i.exec(body);
    if (targets) {
      const allowed = targets[1]!.split(",").map((t) => t.trim());
      if (!target) out.push(`approval is limited to targets ${allowed.join(", ")}: pass --target`);
      else if (!allowed.includes(target))
        out.push(`target ${target} is not among the approved targets ${allowed.join(", ")}`);
    }
  }
  return out;
}

/** The sealed model card names where the model may run; no other target passes the gate. */
export function modelCardViolations(record: PromotionRecord, target?: string): string[] {
  const card = record.modelCard;
  if (!card) return [];
  if (!target) return [`the model card limits deployment to ${card.targets.join(", ")}: pass --target`];
  return card.targets.includes(target)
    ? []
    : [`target ${target} is not declared in the model card (${card.path}: ${card.targets.join(", ")})`];
}

/** Why time has run out on a sealed approval (an expiry date or a re-review due); empty if it has not. */
export function expiryReasons(record: PromotionRecord, now: Date): string[] {
  if (record.decision !== "approved") return [];
  return conditionViolations(record.conditions, new Date(record.sealedAt), now).filter((v) =>
    /^(approval expired|re-review was due)/.test(v),
  );
}
