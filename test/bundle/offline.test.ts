import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MANIFEST, manifestText } from "../../src/bundle/layout.js";
import type { LiveLog } from "../../src/bundle/log-consistency.js";
import { verifyBundle } from "../../src/bundle/verify.js";
import { readZip } from "../../src/bundle/zip-read.js";
import { writeZip } from "../../src/bundle/zip-write.js";
import { createDaemonServer, listen } from "../../src/pipeline/daemon/http.js";
import { FileLedger, FileLedgerReader } from "../../src/evidence/ledger/file-ledger.js";
import { Registry } from "prom-client";
import { signCmsDetached } from "../../src/crypto/sign/cms.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import { cli } from "../support/cli.js";
import { exportOf, sealedStore, type SealedStore } from "./fixture.js";
import { runVerifyMd } from "./run-verify-md.js";

let s: SealedStore;
let zip: Buffer;
let files: Map<string, Buffer>;
let dir: string;

beforeAll(async () => {
  s = await sealedStore();
  zip = await exportOf(s, s.events.approved);
  files = await readZip(zip);
  dir = await mkdtemp(join(tmpdir(), "sealgate-offline-"));
});
afterAll(async () => {
  await s?.ledger.close();
});

const withManifest = (f: Map<string, Buffer>) => f.set(MANIFEST, Buffer.from(manifestText(f)));

describe("VERIFY.md, run with openssl, sha256sum, coreutils and a POSIX shell only", () => {
  it("passes every step on an intact bundle", async () => {
    const r = await runVerifyMd(files, s.pki.trust.anchors);
    expect(r.out).not.toContain("FAILED");
    expect(r.code).toBe(0);
    expect(r.out.match(/CMS Verification successful/g)).toHaveLength(2);
    expect(r.out).toContain("OK: cycle 2's entry is in the signed ledger");
    expect(r.out).toContain("OK: cycle 1's entry is in the signed ledger");
    expect(r.out).toContain("OK: the record names the earlier cycle");
    expect(r.out).toContain("OK: the entry names cycle 2's record");
    expect(r.out).toContain("Verified OK");
    expect(r.out).toContain("ledger/checkpoint-chain.pem: OK");
    expect(r.out).toContain("OK: the sealing certificate has a sealing extended key usage");
    expect(r.out).toContain("OK: cycle 2 is sealed by the sealing certificate");
    expect(r.out).toContain("OK: the checkpoint is signed by the sealing certificate");
    expect(r.out).toContain("OK: the checkpoint's key id is the signing key's");
  });

  it("fails by hand when a record is re-signed with an approver's key, though openssl cms accepts it", async () => {
    const a = s.pki.approvers[0]!;
    const signer = await loadSigner({ type: "pem", key: a.key, cert: a.cert }, "approver");
    const record = files.get("records/2/record.json")!;
    const record2 = JSON.parse(record.toString()) as { sealedAt: string };
    const p7s = Buffer.from(await signCmsDetached(record, signer, new Date(record2.sealedAt)));
    const r = await runVerifyMd(
      withManifest(new Map(files).set("records/2/record.p7s", p7s)),
      s.pki.trust.anchors,
    );
    expect(r.out).toContain("CMS Verification successful"); // the S/MIME purpose admits approvers
    expect(r.out).toContain("FAILED: cycle 2 is sealed by the sealing certificate");
    expect(r.code).not.toBe(0);
  });

  it("fails by hand when the checkpoint's key id is not its key's", async () => {
    const note = files.get("ledger/checkpoint.note")!.toString().split("\n");
    const sigLine = note.length - 2;
    const [dash, origin, b64] = note[sigLine]!.split(" ");
    const blob = Buffer.from(b64!, "base64");
    blob[0]! ^= 1;
    note[sigLine] = `${dash} ${origin} ${blob.toString("base64")}`;
    const r = await runVerifyMd(
      withManifest(new Map(files).set("ledger/checkpoint.note", Buffer.from(note.join("\n")))),
      s.pki.trust.anchors,
    );
    expect(r.out).toContain("FAILED: the checkpoint's key id is the signing key's");
    expect(r.code).not.toBe(0);
  });

  it("fails by hand when the checkpoint's root is not the tree's, even with a recomputed manifest", async () => {
    const note = files.get("ledger/checkpoint.note")!.toString().split("\n");
    note[2] = Buffer.alloc(32, 7).toString("base64");
    const r = await runVerifyMd(
      withManifest(new Map(files).set("ledger/checkpoint.note", Buffer.from(note.join("\n")))),
      s.pki.trust.anchors,
    );
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("FAILED: cycle 2's entry is in the signed ledger");
  });

  it("fails by hand when a record's CMS seal belongs to another record", async () => {
    const swapped = withManifest(
      new Map(files).set("records/2/record.p7s", files.get("records/1/record.p7s")!),
    );
    const r = await runVerifyMd(swapped, s.pki.trust.anchors);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/Verification failure|digest failure/i);
  });

  it("fails by hand when a file differs from the manifest", async () => {
    const r = await runVerifyMd(
      new Map(files).set("records/2/entry.json", Buffer.from("{}")),
      s.pki.trust.anchors,
    );
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("records/2/entry.json: FAILED");
  });
});

describe("sealgate export and sealgate verify BUNDLE", () => {
  it("export by model and version writes the newest cycle's bundle, byte for byte the same as by event", async () => {
    const out = join(dir, "by-model.zip");
    const r = await cli([
      "export",
      "--store",
      s.root,
      "--model",
      "credit-risk",
      "--version",
      "3",
      "--out",
      out,
    ]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect((await readFile(out)).equals(zip)).toBe(true);
  });

  it("export refuses unclear or unknown events with a usage error", async () => {
    const out = join(dir, "x.zip");
    const run = async (...args: string[]) => cli(["export", "--store", s.root, "--out", out, ...args]);
    expect((await run()).code).toBe(2);
    expect((await run("--model", "m", "--version", "1", "--event", s.events.other)).code).toBe(2);
    expect((await run("--event", "abc")).err).toContain("sha256:<64 hex>");
    const unknown = await run("--event", `sha256:${"0".repeat(64)}`);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("not in the ledger");
    expect((await run("--model", "nope", "--version", "1")).err).toContain("no sealed record of nope v1");
  });

  it("verify prints each claim and exits 0, or 1 with the failing claim and its reason", async () => {
    const good = join(dir, "good.zip");
    await writeFile(good, zip);
    const ok = await cli(["verify", good, "--ca", s.pki.trust.anchors]);
    expect(ok.out + ok.err).not.toContain("✗");
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("✓ cycle 2: the record's CMS seal (.p7s) verifies and chains to your CA");
    expect(ok.out).toMatch(/OK: all \d+ claims verified/);
    const json = await cli(["verify", good, "--ca", s.pki.trust.anchors, "--json"]);
    expect(JSON.parse(json.out)).toMatchObject({ ok: true, event: s.events.approved });

    const bad = join(dir, "bad.zip");
    await writeFile(
      bad,
      await writeZip(
        withManifest(new Map(files).set("records/1/record.p7s", files.get("records/2/record.p7s")!)),
      ),
    );
    const failed = await cli(["verify", bad, "--ca", s.pki.trust.anchors]);
    expect(failed.code).toBe(1);
    expect(failed.out).toMatch(/✗ cycle 1: the record's CMS seal[^\n]*\n\s+SIGNATURE_INVALID/);
    expect(failed.out).toMatch(/FAILED: 1 of \d+ claims did not verify/);
  });

  it("verify takes a bundle or --store, not both or neither, and still verifies a store", async () => {
    expect((await cli(["verify", "--ca", s.pki.trust.anchors])).code).toBe(2);
    expect(
      (await cli(["verify", join(dir, "good.zip"), "--store", s.root, "--ca", s.pki.trust.anchors])).code,
    ).toBe(2);
    expect((await cli(["verify", join(dir, "good.zip")])).code).toBe(2);
    const noLog = await cli(["verify", join(dir, "good.zip"), "--ca", s.pki.trust.anchors, "--log", dir]);
    expect(noLog.code).toBe(2);
    expect(noLog.err).toContain("no ledger there");
    const store = await cli(["verify", "--store", s.root, "--ca", s.pki.trust.anchors]);
    expect(store.code).toBe(0);
  });
});

describe("malformed, missing and extra files each give a clear reason", () => {
  const failed = async (f: Map<string, Buffer>) => {
    const report = await verifyBundle(await writeZip(withManifest(f)), s.trust);
    return Object.fromEntries(report.claims.filter((c) => !c.ok).map((c) => [c.id, c.findings]));
  };

  it("a bundle.json that is not JSON stops verification at the index, saying why", async () => {
    const r = await failed(new Map(files).set("bundle.json", Buffer.from("{not json")));
    expect(r.index).toEqual([
      expect.objectContaining({
        code: "BUNDLE_INVALID",
        where: { member: "bundle.json" },
        message: expect.stringMatching(/bundle\.json is not valid/),
      }),
    ]);
  });

  it("a record that is not JSON, a missing seal and an extra file are each named", async () => {
    const f = new Map(files).set("records/1/record.json", Buffer.from("[1,2"));
    f.delete("records/2/record.p7s");
    f.set("notes.txt", Buffer.from("hello"));
    const r = await failed(f);
    expect(r["cycle-1.record"]).toEqual([
      expect.objectContaining({
        code: "RECORD_INVALID",
        where: { member: "records/1/record.json", cycle: 1 },
        message: expect.stringMatching(/records\/1\/record\.json is not valid/),
      }),
    ]);
    expect(r["cycle-2.cms"]).toEqual([
      expect.objectContaining({
        code: "OBJECT_MISSING",
        where: { member: "records/2/record.p7s", cycle: 2 },
        message: expect.stringContaining("records/2/record.p7s is missing"),
      }),
    ]);
    // (cycle 1's objects are not expected now that its record is unreadable: they are extra.)
    expect(r.contents).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: "OBJECT_MISSING", where: { member: "records/2/record.p7s" } }),
        expect.objectContaining({
          code: "CONTENTS_MISMATCH",
          where: { member: "notes.txt" },
          message: "notes.txt does not belong in this bundle",
        }),
      ]),
    );
    expect(r["cycle-2.jws"]).toBeUndefined();
  });
});

// Last: these append to the fixture's ledger.
describe("verify --log: the bundle's checkpoint against the live log", () => {
  let forged: string;
  const servers: Server[] = [];
  afterAll(() => Promise.all(servers.map((srv) => new Promise((r) => srv.close(r)))));

  /** A daemon's HTTP face serving `ledgerDir` read-only, as `sealgate daemon` does. */
  const serve = async (ledgerDir: string) => {
    const srv = createDaemonServer({
      ready: async () => [],
      registry: new Registry(),
      ledger: new FileLedgerReader(ledgerDir),
    });
    servers.push(srv);
    const { port } = await listen(srv, "127.0.0.1", 0);
    return `http://127.0.0.1:${port}`;
  };
  const logClaim = async (log: LiveLog) =>
    (await verifyBundle(zip, s.trust, { log })).claims.find((c) => c.id === "log")!;

  it("passes while the log only grew, and catches a log rewritten after export", async () => {
    await s.ledger.append({ kind: "event", object: `sha256:${"1".repeat(64)}` });
    await s.ledger.checkpoint(s.sealer);
    expect(await logClaim({ ledger: FileLedgerReader.ofStore(s.root), where: s.root })).toMatchObject({
      ok: true,
    });

    // The same origin, re-signed over different history: what a compromised log host could do.
    forged = await mkdtemp(join(tmpdir(), "sealgate-forged-log-"));
    await cp(join(s.root, "ledger", "ORIGIN"), join(forged, "ORIGIN"));
    const ledger = await FileLedger.open(forged);
    for (const c of "23456") await ledger.append({ kind: "event", object: `sha256:${c.repeat(64)}` });
    await ledger.checkpoint(s.sealer);
    await ledger.close();
    const log = await logClaim({ ledger: new FileLedgerReader(forged), where: forged });
    expect(log.findings).toEqual([
      expect.objectContaining({
        code: "LOG_INCONSISTENT",
        message: expect.stringContaining("the log was rewritten"),
      }),
    ]);
    const viaCli = await cli(["verify", join(dir, "good.zip"), "--ca", s.pki.trust.anchors, "--log", forged]);
    expect(viaCli.code).toBe(1);
  });

  it("reads the live log from a daemon's URL the same way, over HTTP", async () => {
    const live = await serve(join(s.root, "ledger"));
    const served = await fetch(`${live}/ledger/entries.log`);
    expect(Buffer.from(await served.arrayBuffer())).toEqual(
      await readFile(join(s.root, "ledger", "entries.log")),
    );
    expect(await logClaim({ url: live })).toMatchObject({ ok: true });

    const rewritten = await serve(forged);
    const log = await logClaim({ url: rewritten });
    expect(log).toMatchObject({ ok: false, title: expect.stringContaining(rewritten) });
    expect(log.findings).toEqual([
      expect.objectContaining({
        code: "LOG_INCONSISTENT",
        message: expect.stringContaining("the log was rewritten"),
      }),
    ]);
    const bundle = join(dir, "good.zip");
    const ok = await cli(["verify", bundle, "--ca", s.pki.trust.anchors, "--log", live, "--json"]);
    expect(ok.code).toBe(0);
    expect((await cli(["verify", bundle, "--ca", s.pki.trust.anchors, "--log", rewritten])).code).toBe(1);
  });

  it("sends the daemon's access token from a reference, and says which token problem a 401 is", async () => {
    const srv = createDaemonServer({
      ready: async () => [],
      registry: new Registry(),
      ledger: FileLedgerReader.ofStore(s.root),
      accessToken: "a-daemon-access-token-0123456789",
    });
    servers.push(srv);
    const { port } = await listen(srv, "127.0.0.1", 0);
    const live = `http://127.0.0.1:${port}`;
    const bundle = join(dir, "good.zip");
    const args = ["verify", bundle, "--ca", s.pki.trust.anchors, "--log", live];
    const none = await cli(args);
    expect(none.code).toBe(1);
    expect(none.out).toContain("wants the daemon's access token (401): pass --log-token");
    const env = { LOG_TOKEN: "a-daemon-access-token-0123456789", WRONG_TOKEN: "not-the-daemon-token-000" };
    const wrong = await cli([...args, "--log-token", "${WRONG_TOKEN}"], env);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain("refused the access token (401)");
    const ok = await cli([...args, "--log-token", "${LOG_TOKEN}", "--json"], env);
    expect(ok.code).toBe(0);
    expect(`${ok.out}${ok.err}`).not.toContain("a-daemon-access-token-0123456789");
    // A literal token on the command line would show in ps: refused as not a reference.
    const literal = await cli([...args, "--log-token", "a-daemon-access-token-0123456789"]);
    expect(literal.code).toBe(2);
    expect((await cli([...args, "--log-max-mb", "lots"])).code).toBe(2);
  });

  it("marks the claim failed, without hanging or buffering, when the URL serves no ledger", async () => {
    const hostile = createServer((req, res) => {
      if (req.url?.startsWith("/garbage/")) return void res.end("not a checkpoint\n");
      if (!req.url?.startsWith("/endless/")) return void res.writeHead(404).end("not found\n");
      // An endless line: the reader must stop at its line limit, not buffer it all.
      const chunk = Buffer.alloc(1 << 16, 0x61);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    });
    servers.push(hostile);
    const { port } = await listen(hostile, "127.0.0.1", 0);
    const at = (p: string) => logClaim({ url: `http://127.0.0.1:${port}/${p}/` });

    const garbage = await at("garbage");
    const failedWith = (message: RegExp, code = "LOG_INCONSISTENT") => ({
      ok: false,
      findings: [expect.objectContaining({ code, message: expect.stringMatching(message) })],
    });
    expect(garbage).toMatchObject(
      failedWith(/checkpoints\.log: the last checkpoint is malformed/, "CHECKPOINT_INVALID"),
    );
    expect(await at("endless")).toMatchObject(failedWith(/longer than 1048576 bytes/));
    expect(await at("nowhere")).toMatchObject(failedWith(/404/));
  });
});
