import { type Checkpoint, type SignedCheckpoint, verifyCheckpoint } from "../ledger/checkpoint.js";
import type { Trust } from "../pki/trust.js";
import { type Finding, findingOf, type Where } from "./findings.js";

/*
 * The one verifier of sealed evidence. Every caller (store, gate, evidence, bundle) hands it
 * what it has and prints the findings it returns; it never throws on bad input.
 */

export class Verifier {
  constructor(readonly trust: Trust) {}

  /** A signed checkpoint: the note parses, its signature verifies, its chain validates at its time. */
  async verifyCheckpoint(
    s: SignedCheckpoint,
    where: Where,
  ): Promise<{ checkpoint?: Checkpoint; findings: Finding[] }> {
    try {
      return { checkpoint: await verifyCheckpoint(s, this.trust), findings: [] };
    } catch (err) {
      const step = (err as { code?: string }).code?.startsWith("CERT_") ? "certificates" : "signatures";
      return { findings: [findingOf(err, step, where, "CHECKPOINT_INVALID")] };
    }
  }
}
