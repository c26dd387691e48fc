/*
 * Redaction by value. Config-path redaction cannot see a secret a remote server echoes back in
 * an error body, or one a message quotes, so every secret the process resolves is registered
 * here and `scrub` replaces it, in every encoding it travels in, wherever text leaves the
 * process (error bodies, log lines, CLI output, outbox files). This module imports nothing:
 * the lowest layers use it, and it must never pull in config or connectors.
 */

export const REDACTED = "[REDACTED]";

/**
 * Shorter values are not registered: a 1-3 character secret would match ordinary words and
 * numbers everywhere (and the pattern of redactions would give it away), and is no secret.
 */
export const MIN_SECRET_LENGTH = 4;

/** Tokens minted at run time (OAuth, sessions) are kept to the most recent few, so a daemon's set stays small. */
const MAX_EPHEMERAL = 64;

const permanent = new Set<string>();
/** Insertion-ordered; re-registering moves a value to the end, so live tokens are never evicted. */
const ephemeral = new Map<string, true>();
let pattern: RegExp | null = null;
let stale = false;

/** Register a secret value: from now on `scrub` removes it and its encoded forms. */
export function registerSecret(value: string, o: { ephemeral?: boolean } = {}): void {
  if (value.length < MIN_SECRET_LENGTH || permanent.has(value)) return;
  if (!o.ephemeral) {
    ephemeral.delete(value);
    permanent.add(value);
    stale = true;
    return;
  }
  const known = ephemeral.delete(value);
  ephemeral.set(value, true);
  if (known) return;
  stale = true;
  if (ephemeral.size > MAX_EPHEMERAL) ephemeral.delete(ephemeral.keys().next().value as string);
}

/**
 * Register the credential of an Authorization header as sent: the part after the scheme, a
 * quoted session id inside it, and for Basic auth the password decoded from `user:password`.
 */
export function registerAuthorization(header: string): void {
  const credential = /^\S+\s+(.+)$/.exec(header.trim())?.[1];
  if (!credential) return;
  registerSecret(credential, { ephemeral: true });
  for (const m of credential.matchAll(/"([^"]+)"/g)) registerSecret(m[1] as string, { ephemeral: true });
  if (/^basic\s/i.test(header.trim())) {
    const decoded = Buffer.from(credential, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon >= 0) registerSecret(decoded.slice(colon + 1), { ephemeral: true });
  }
}

/** Replace every registered secret, in any of its encodings, with [REDACTED]. */
export function scrub(text: string): string {
  if (stale) rebuild();
  return pattern ? text.replace(pattern, REDACTED) : text;
}

/** Forget every registered value (tests that need a clean registry). */
export function forgetSecrets(): void {
  permanent.clear();
  ephemeral.clear();
  pattern = null;
  stale = false;
}

function rebuild(): void {
  const sources = new Set<string>();
  for (const value of [...permanent, ...ephemeral.keys()]) for (const s of formsOf(value)) sources.add(s);
  // Longest first: where forms overlap, the whole of the longer one goes.
  const ordered = [...sources].sort((a, b) => b.length - a.length);
  pattern = ordered.length ? new RegExp(ordered.join("|"), "g") : null;
  stale = false;
}

/** Regex sources for every form a secret is printed in; each at least MIN_SECRET_LENGTH long. */
function formsOf(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const text = [
    value,
    json,
    JSON.stringify(json).slice(1, -1),
    json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
  ];
  const url = [encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2)];
  return [
    ...text.filter((f) => f.length >= MIN_SECRET_LENGTH).map(escapeRegExp),
    ...url.filter((f) => f.length >= MIN_SECRET_LENGTH).map(percentAnyCase),
    ...base64Forms(Buffer.from(value, "utf8")),
  ];
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/** URL-encoded: %2f and %2F are the same byte. */
const percentAnyCase = (s: string) =>
  escapeRegExp(s).replace(
    /%([0-9A-F])([0-9A-F])/g,
    (_m, a: string, b: string) => `%${anyCase(a)}${anyCase(b)}`,
  );
const anyCase = (c: string) => (/[A-F]/.test(c) ? `[${c}${c.toLowerCase()}]` : c);

/**
 * Base64 (standard and URL alphabets) of the secret wherever it sits in a larger encoded
 * value, such as `user:password` in Basic auth: for each of the three byte alignments, the
 * characters that depend on the secret's bytes alone, plus one neighbouring character on
 * either side (it carries some of the secret's edge bits) and any padding.
 */
function base64Forms(bytes: Buffer): string[] {
  // The leading neighbour is never part of a JSON escape (\n, \u00e9): eating it would break the line.
  const lead = (alphabet: string) => `(?:(?<!\\\\(?:u[0-9A-Fa-f]{0,3})?)[${alphabet}])?`;
  const out: string[] = [];
  for (let align = 0; align < 3; align++) {
    const encoded = Buffer.concat([Buffer.alloc(align), bytes]).toString("base64");
    const first = Math.ceil((8 * align) / 6);
    const last = Math.floor((8 * (align + bytes.length) - 6) / 6);
    const core = encoded.slice(first, last + 1);
    if (core.length < MIN_SECRET_LENGTH) continue;
    out.push(`${lead("A-Za-z0-9+/")}${escapeRegExp(core)}[A-Za-z0-9+/]?={0,2}`);
    const urlCore = core.replace(/\+/g, "-").replace(/\//g, "_");
    out.push(`${lead("A-Za-z0-9_-")}${escapeRegExp(urlCore)}[A-Za-z0-9_-]?`);
  }
  return out;
}
