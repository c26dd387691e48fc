import { SealgateError } from "../core/errors.js";
import {
  CHECKPOINT_CHAIN,
  CHECKPOINT_NOTE,
  CHECKPOINT_TST,
  INDEX,
  MANIFEST,
  SEALING_CHAIN,
  TSA_CHAIN,
  VERIFY_MD,
} from "./layout.js";

/*
 * How much of each bundle member a verifier reads (FORMAT.md 17.5). A hostile bundle must not
 * cost more memory or time than an honest one could: each member kind gets a size limit sized
 * from what export writes (a record is kilobytes), JSON members a nesting limit checked before
 * parsing, and only members that can be large (objects) are hashed as they inflate, not held.
 */

export interface MemberRule {
  /** What the member is, for messages: "record (records/<n>/record.json)". */
  kind: string;
  maxBytes: number;
  /** Deepest JSON nesting accepted, for members read as JSON. */
  maxDepth: number;
  /** Members up to this size are held in memory to be read; larger ones are only hashed. */
  holdBytes: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

const rule = (kind: string, maxBytes: number, maxDepth = 0): MemberRule => ({
  kind,
  maxBytes,
  maxDepth,
  holdBytes: maxBytes,
});

/** Objects are images, PDFs, model manifests and small JSON; only the small ones are read. */
export const OBJECT_HOLD_BYTES = 4 * MiB;

const CYCLE_RULES: Record<string, MemberRule> = {
  "record.json": rule("record (records/<n>/record.json)", 1 * MiB, 16),
  "record.jws": rule("record JWS (records/<n>/record.jws)", 2 * MiB, 4),
  "record.p7s": rule("CMS signature (records/<n>/record.p7s)", 1 * MiB),
  "record.pdf": rule("signed PDF (records/<n>/record.pdf)", 64 * MiB),
  "entry.json": rule("ledger entry (records/<n>/entry.json)", 64 * KiB, 4),
  "inclusion.json": rule("inclusion proof (records/<n>/inclusion.json)", 64 * KiB, 4),
};

const EVENT_RULES: Record<string, MemberRule> = {
  entry: rule("event's ledger entry (records/<n>/events/<seq>.entry.json)", 64 * KiB, 4),
  inclusion: rule("event's inclusion proof (records/<n>/events/<seq>.inclusion.json)", 64 * KiB, 4),
};

const FIXED_RULES: Record<string, MemberRule> = {
  [MANIFEST]: rule(`manifest (${MANIFEST})`, 4 * MiB),
  // cycles[].events[] is the deepest member: {cycles: [{events: [{...}]}]}.
  [INDEX]: rule(`bundle index (${INDEX})`, 1 * MiB, 5),
  [VERIFY_MD]: rule(`instructions (${VERIFY_MD})`, 16 * MiB),
  [SEALING_CHAIN]: rule(`certificate chain (${SEALING_CHAIN})`, 256 * KiB),
  [CHECKPOINT_CHAIN]: rule(`certificate chain (${CHECKPOINT_CHAIN})`, 256 * KiB),
  [CHECKPOINT_NOTE]: rule(`checkpoint (${CHECKPOINT_NOTE})`, 64 * KiB),
  [CHECKPOINT_TST]: rule(`time-stamp token (${CHECKPOINT_TST})`, 64 * KiB),
  [TSA_CHAIN]: rule(`certificate chain (${TSA_CHAIN})`, 256 * KiB),
};

export const OBJECT_RULE: MemberRule = {
  kind: "object (objects/<sha256>)",
  maxBytes: 256 * MiB,
  maxDepth: 32,
  holdBytes: OBJECT_HOLD_BYTES,
};

/** Names that belong in no bundle: read only far enough to report them as extra. */
const OTHER_RULE = rule("file that belongs in no bundle", 1 * MiB, 4);

/** The rule for a member name (the layout of FORMAT.md 17.2). */
export function memberRule(name: string): MemberRule {
  const fixed = FIXED_RULES[name];
  if (fixed) return fixed;
  const cycle = /^records\/[1-9][0-9]{0,5}\/([a-z.0-9]+)$/.exec(name);
  if (cycle && CYCLE_RULES[cycle[1]!]) return CYCLE_RULES[cycle[1]!]!;
  const event = /^records\/[1-9][0-9]{0,5}\/events\/(?:0|[1-9][0-9]{0,15})\.(entry|inclusion)\.json$/.exec(
    name,
  );
  if (event) return EVENT_RULES[event[1]!]!;
  if (/^objects\/[0-9a-f]{64}$/.test(name)) return OBJECT_RULE;
  return OTHER_RULE;
}

/** Every rule, for FORMAT.md and tests. */
export const MEMBER_RULES: readonly MemberRule[] = [
  ...Object.values(FIXED_RULES),
  ...Object.values(CYCLE_RULES),
  ...Object.values(EVENT_RULES),
  OBJECT_RULE,
  OTHER_RULE,
];

/**
 * The deepest nesting of `[` and `{` in JSON text, stopping as soon as it passes `max`: one
 * linear pass that skips strings, so a deep array is refused before JSON.parse can recurse or
 * allocate for it.
 */
export function jsonDepthOver(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c)
        i++; // backslash: the next byte is escaped
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > max) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

/** Refuse JSON nested deeper than the member's kind allows, naming the member and the limit. */
export function checkJsonDepth(bytes: Uint8Array, path: string): void {
  const { kind, maxDepth } = memberRule(path);
  if (jsonDepthOver(bytes, maxDepth))
    throw new SealgateError(
      "BUNDLE_UNSAFE",
      `bundle entry ${JSON.stringify(path)}: JSON nested deeper than ${maxDepth} levels, the limit for a ${kind}; refusing to parse it`,
    );
}
