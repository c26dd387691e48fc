import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { link, open, readdir, rename, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type ErrorCode, SealgateError } from "../../core/errors.js";

/*
 * One writer per ledger (and per outbox). Node has no flock(2), so this is a lock file that
 * names its holder (host, pid, the process's start time, since when, its command line) and a
 * dead holder, even one killed by SIGKILL, is recognised as gone and its lock taken over.
 * Why it holds (no two live holders), with only link(2) and rename(2) being atomic:
 *
 * 1. A lock file is never visible empty or half-written. The record is written and fsynced to
 *    a unique temp file first, then link()ed to the lock path: the create is exclusive and the
 *    content is complete the moment the name exists. (A file that does not parse, say from an
 *    older sealgate, counts as "being taken" until it is GRACE_MS old by mtime.)
 * 2. Only the live holder removes the lock path (release). A takeover never removes it: it
 *    rename()s a fresh record over the stale one, so the path never goes absent during a
 *    takeover and nobody can link() a second lock in between.
 * 3. Each stale generation G (identity: inode, mtime and content, which carries a unique nonce)
 *    may be replaced only by the one process that holds `<lock>.takeover-<G>`, a lock taken by
 *    this same procedure. Holding it, the process re-reads the path: if it is still G it renames
 *    over it, else it backs off. While the path is G only the guard's holder changes it (G's own
 *    holder is dead, creation fails as the path exists), so check-then-rename cannot interleave
 *    with another takeover. Generations never repeat, so a guard for an old generation is
 *    harmless to whoever holds it: its check fails. A guard whose holder died is itself a stale
 *    lock, taken over one level down (`.takeover-<G>.takeover-<P>`), bounded by MAX_DEPTH.
 * 4. A holder is dead when its pid no longer runs or belongs to a process started later. A
 *    holder on another host is never judged dead (nothing here can tell), so it stays locked.
 * 5. Leftovers (guards, temp files of dead processes) are swept by the next holder: by 3 every
 *    guard is for a generation that is no longer current, and a swept temp file only makes
 *    its racer retry.
 */

/** How long an unreadable lock file is "being taken" before it counts as stale. */
export const GRACE_MS = 10_000;
/** How long a takeover in progress by a live process may make a no-wait caller retry. */
const CONTENDED_MS = 5_000;
const MAX_DEPTH = 4;
const POLL_MS = 100;

interface Holder {
  host: string;
  pid: number;
  started: string;
  since?: string;
  cmd?: string;
  nonce?: string;
}

/** What was at the lock path when read: its holder (if it parses) and its generation. */
interface Seen {
  holder?: Holder;
  identity: string;
  mtimeMs: number;
}

type Attempt = { held: string } | { busy: Seen; transient?: boolean } | { retry: true };

function processStart(pid: number): string {
  try {
    // Field 22 of /proc/<pid>/stat: start time in clock ticks since boot (Linux).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

/** This process's command line, for the refusal message of whoever waits on its lock. */
function commandLine(): string {
  let args: string[];
  try {
    args = readFileSync("/proc/self/cmdline", "utf8").split("\0").filter(Boolean);
  } catch {
    args = [process.execPath, ...process.argv.slice(1)];
  }
  const line = args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}

function holderAlive(h: Holder): boolean {
  if (h.host !== hostname()) return true; // Cannot tell from here: assume it is.
  return pidRuns(h.pid) && (!h.started || processStart(h.pid) === h.started);
}

function parseHolder(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    return typeof h.host === "string" && Number.isSafeInteger(h.pid) && (h.pid ?? 0) > 0
      ? (h as Holder)
      : undefined;
  } catch {
    return undefined;
  }
}

const code = (err: unknown) => (err as { code?: string }).code;

async function readLockFile(path: string): Promise<Seen | null> {
  const fh = await open(path, "r").catch((err: unknown) => {
    if (code(err) === "ENOENT") return null;
    throw err;
  });
  if (!fh) return null;
  try {
    const st = await fh.stat({ bigint: true });
    const text = await fh.readFile("utf8");
    const identity = createHash("sha256")
      .update(`${st.dev}:${st.ino}:${st.mtimeNs}\n${text}`)
      .digest("hex")
      .slice(0, 16);
    return { holder: parseHolder(text), identity, mtimeMs: Number(st.mtimeMs) };
  } finally {
    await fh.close();
  }
}

const isStale = (seen: Seen) =>
  seen.holder ? !holderAlive(seen.holder) : Date.now() - seen.mtimeMs > GRACE_MS;

/** This process's record, complete and fsynced, under a unique temp name next to `path`. */
async function writeTemp(path: string): Promise<{ file: string; nonce: string }> {
  const nonce = randomBytes(12).toString("hex");
  const file = `${path}.${process.pid}-${nonce}.tmp`;
  const me = { host: hostname(), pid: process.pid, started: processStart(process.pid) };
  const fh = await open(file, "wx", 0o600);
  try {
    await fh.writeFile(
      `${JSON.stringify({ ...me, since: new Date().toISOString(), cmd: commandLine(), nonce })}\n`,
    );
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { file, nonce };
}

/** link() or rename(); false when another process got there first or swept our temp file. */
async function atomically(op: () => Promise<void>): Promise<boolean> {
  try {
    await op();
    return true;
  } catch (err) {
    if (code(err) === "EEXIST" || code(err) === "ENOENT") return false;
    throw err;
  }
}

async function attempt(path: string, depth: number): Promise<Attempt> {
  const seen = await readLockFile(path);
  if (seen && !isStale(seen)) return { busy: seen };
  if (seen && depth >= MAX_DEPTH) return { busy: seen, transient: true };
  const tmp = await writeTemp(path);
  try {
    if (!seen) return (await atomically(() => link(tmp.file, path))) ? { held: tmp.nonce } : { retry: true };
    return await takeOver(path, seen, tmp, depth);
  } finally {
    await rm(tmp.file, { force: true });
  }
}

const guardOf = (path: string, seen: Seen) => `${path}.takeover-${seen.identity}`;

/** The takeover guard of the lock now at `path` (null if none): for tests and diagnostics. */
export async function takeoverGuardPath(path: string): Promise<string | null> {
  const seen = await readLockFile(path);
  return seen && guardOf(path, seen);
}

/** Replace the stale generation `seen` by our record, holding that generation's guard (3 above). */
async function takeOver(
  path: string,
  seen: Seen,
  tmp: { file: string; nonce: string },
  depth: number,
): Promise<Attempt> {
  const guardPath = guardOf(path, seen);
  const guard = await attempt(guardPath, depth + 1);
  if ("retry" in guard) return guard;
  if ("busy" in guard) return { busy: guard.busy, transient: true };
  try {
    const now = await readLockFile(path);
    if (now?.identity !== seen.identity) return { retry: true };
    return (await atomically(() => rename(tmp.file, path))) ? { held: tmp.nonce } : { retry: true };
  } finally {
    await releaseFile(guardPath, guard.held);
  }
}

/** Remove a lock file if it is still ours (nobody replaces a live holder's, by 2 and 4). */
async function releaseFile(path: string, nonce: string): Promise<void> {
  if ((await readLockFile(path))?.holder?.nonce === nonce) await rm(path, { force: true });
}

/** Guards and temp files left by processes that died mid-takeover (5 above). */
async function sweep(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const tmp = /\.(\d+)-[0-9a-f]+\.tmp$/.exec(name);
    if (tmp ? !pidRuns(Number(tmp[1])) : name.startsWith(`${prefix}takeover-`))
      await rm(join(dir, name), { force: true }).catch(() => undefined);
  }
}

export interface Lock {
  release(): Promise<void>;
}

export interface LockOptions {
  /** The error code of a refusal (default LEDGER_LOCKED). */
  code?: Extract<ErrorCode, "LEDGER_LOCKED" | "OUTBOX_LOCKED">;
  /** The refusal's opening, naming what is locked. */
  what?: string;
  /** What the operator should do while the holder runs. */
  advice?: string;
}

/** Why the lock was refused: who holds it, how to check that process, what to do. */
function refusal(path: string, seen: Seen, o: LockOptions): SealgateError {
  const subject = o.what ?? "the ledger is in use by another sealgate process";
  const h = seen.holder;
  if (!h)
    return new SealgateError(
      o.code ?? "LEDGER_LOCKED",
      `${subject}: its lock file ${path} is still being written; retry in a moment (a lock file left unreadable for ${GRACE_MS / 1000} s is taken over)`,
    );
  const local = h.host === hostname();
  if (local && !holderAlive(h))
    return new SealgateError(
      o.code ?? "LEDGER_LOCKED",
      `${subject}: its lock file ${path} was left by process ${h.pid}, which has exited, and ${MAX_DEPTH} takeovers of it died half-way; once no sealgate runs, delete ${path} and ${path}.takeover-*`,
    );
  const who = `process ${h.pid} on ${h.host}${h.since ? ` since ${h.since}` : ""}${h.cmd ? `, running ${h.cmd}` : ""}`;
  const check = `check it with \`ps -p ${h.pid} -o pid,lstart,args\`${local ? "" : ` on ${h.host}`} (lock file ${path})`;
  const next = local
    ? `${o.advice ?? "wait for it to finish or stop it"}; a lock whose process has exited is taken over automatically`
    : `a lock held from another host is never taken over: if that process is gone, delete ${path}`;
  return new SealgateError(o.code ?? "LEDGER_LOCKED", `${subject}: ${who}; ${check}; ${next}`);
}

/**
 * Take the lock at `path`, waiting up to `waitMs` for a live holder to release it; a stale lock
 * (dead holder) is taken over at once. Throws LEDGER_LOCKED (or `o.code`) naming the holder.
 */
export async function acquireLock(path: string, waitMs = 0, o: LockOptions = {}): Promise<Lock> {
  const start = Date.now();
  for (;;) {
    const r = await attempt(path, 0);
    if ("held" in r) {
      await sweep(path);
      return { release: () => releaseFile(path, r.held) };
    }
    if ("busy" in r && Date.now() >= start + Math.max(waitMs, r.transient ? CONTENDED_MS : 0))
      throw refusal(path, r.busy, o);
    // A takeover by someone else takes microseconds: look again soon, with jitter.
    await sleep("busy" in r && !r.transient ? POLL_MS : 2 + Math.random() * 10);
  }
}
