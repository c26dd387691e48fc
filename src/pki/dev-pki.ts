import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Issued, type Issuer, issueCertificate } from "./issue.js";
import { certSigningAlgorithm, type KeySpec, pkcs8Pem, toKeyObject } from "./keys.js";
import { writePkcs12 } from "./pkcs12.js";
import { fingerprint, OID, subtle, toPem, x509 } from "./x509.js";

/*
 * `sealgate pki init`: a development PKI for the demo and the tests. Root -> issuing CA ->
 * sealing, approver and TSA certificates with the extensions third-party verifiers need, plus
 * deliberately bad certificates each of which must be refused with its own code.
 */

const DAY = 86_400_000;
const KU = x509.KeyUsageFlags;
const SIGNING_KU = KU.digitalSignature | KU.nonRepudiation;

export interface DevPerson {
  name: string;
  email: string;
}

/** Demo approvers: names in several scripts, as real organisations have. */
export const DEMO_APPROVERS: DevPerson[] = [
  { name: "Ada Lovelace", email: "ada.lovelace@example.org" },
  { name: "Zoë Ångström", email: "zoe.angstrom@example.org" },
  { name: "李雷", email: "li.lei@example.org" },
  { name: "Ægir Þórsson", email: "aegir.thorsson@example.org" },
  { name: "ليلى حداد", email: "layla.haddad@example.org" },
];

export const BAD_CERTS = [
  "expired",
  "not-yet-valid",
  "wrong-issuer",
  "no-key-usage",
  "self-signed",
  "revoked",
] as const;
export type BadCert = (typeof BAD_CERTS)[number];

export interface DevPkiOptions {
  spec?: KeySpec;
  org?: string;
  now?: Date;
  approvers?: DevPerson[];
}

export interface DevPkiManifest {
  format: "sealgate.dev-pki/1";
  spec: KeySpec;
  createdAt: string;
  p12Passphrase: string;
  trust: { anchors: string; intermediates: string; crl: string };
  sealing: Identity;
  tsa: Identity;
  approvers: (Identity & DevPerson & { slug: string })[];
  bad: Record<BadCert, Identity>;
}

export interface Identity {
  key: string;
  cert: string;
  p12: string;
  fingerprint: string;
}

export const slug = (email: string) =>
  email
    .split("@")[0]!
    .replace(/[^a-z0-9]+/gi, "-")
    .toLowerCase();

export async function createDevPki(dir: string, opts: DevPkiOptions = {}): Promise<DevPkiManifest> {
  const spec = opts.spec ?? "ec-p256";
  const org = opts.org ?? "Sealgate Demo Org";
  const now = opts.now ?? new Date();
  const at = (days: number) => new Date(now.getTime() + days * DAY);
  const p12Passphrase = randomBytes(12).toString("base64url");
  await mkdir(join(dir, "approvers"), { recursive: true });
  await mkdir(join(dir, "bad"), { recursive: true });
  await mkdir(join(dir, "trust"), { recursive: true });

  const caKu = KU.keyCertSign | KU.cRLSign;
  // CAs predate every leaf, as in a real organisation, so the expired leaf chains properly.
  const root = await issueCertificate({
    subject: `CN=Sealgate Dev Root CA, O=${org}`,
    spec,
    notBefore: at(-1095),
    notAfter: at(3650),
    ca: { pathLength: 1 },
    keyUsage: caKu,
  });
  const issuing = await issueCertificate({
    subject: `CN=Sealgate Dev Issuing CA, O=${org}`,
    spec,
    issuer: issuerOf(root),
    notBefore: at(-1095),
    notAfter: at(1825),
    ca: { pathLength: 0 },
    keyUsage: caKu,
  });
  const leaf = (subject: string, extra: Partial<Parameters<typeof issueCertificate>[0]> = {}) =>
    issueCertificate({
      subject,
      spec,
      issuer: issuerOf(issuing),
      notBefore: at(-1),
      notAfter: at(730),
      keyUsage: SIGNING_KU,
      ...extra,
    });
  const save = async (base: string, issued: Issued, chain: x509.X509Certificate[]): Promise<Identity> => {
    const key = await toKeyObject(issued.keys.privateKey);
    const pkcs8 = await subtle.exportKey("pkcs8", issued.keys.privateKey);
    const files = {
      key: join(dir, `${base}.key`),
      cert: join(dir, `${base}.pem`),
      p12: join(dir, `${base}.p12`),
    };
    await writeFile(files.key, pkcs8Pem(key), { mode: 0o600 });
    await writeFile(files.cert, chain.map((c) => c.toString("pem")).join("\n") + "\n");
    await writeFile(files.p12, await writePkcs12(pkcs8, chain, p12Passphrase), { mode: 0o600 });
    return { ...files, fingerprint: await fingerprint(issued.cert) };
  };

  const sealingCert = await leaf(`CN=sealgate evidence sealing, O=${org}`, {
    emails: ["sealgate@example.org"],
    // emailProtection: openssl cms -verify's S/MIME purpose and pdfsig; codeSigning: OpenSSF
    // model signing; documentSigning: RFC 9336 for PDF validators.
    eku: { oids: [OID.emailProtection, OID.codeSigning, OID.documentSigning] },
  });
  const sealing = await save("sealing", sealingCert, [sealingCert.cert, issuing.cert]);
  const tsaCert = await leaf(`CN=Sealgate Dev TSA, O=${org}`, {
    // RFC 3161 2.3: exactly one EKU, timeStamping, marked critical.
    eku: { oids: [OID.timeStamping], critical: true },
  });
  const tsa = await save("tsa", tsaCert, [tsaCert.cert, issuing.cert]);

  const approvers: DevPkiManifest["approvers"] = [];
  for (const person of opts.approvers ?? DEMO_APPROVERS) {
    const issued = await leaf(`CN=${person.name}, O=${org}`, {
      emails: [person.email],
      eku: { oids: [OID.emailProtection, OID.clientAuth] },
    });
    const s = slug(person.email);
    approvers.push({
      ...person,
      slug: s,
      ...(await save(join("approvers", s), issued, [issued.cert, issuing.cert])),
    });
  }

  const approverEku = { oids: [OID.emailProtection, OID.clientAuth] };
  const badEmail = (name: string) => [`${name}@example.org`];
  const rogue = await issueCertificate({
    subject: `CN=Rogue CA, O=Not ${org}`,
    spec,
    notBefore: at(-1),
    notAfter: at(3650),
    ca: {},
    keyUsage: caKu,
  });
  const badIssued: Record<BadCert, [Issued, x509.X509Certificate[]]> = {} as never;
  const mk = async (name: BadCert, issued: Issued, chain?: x509.X509Certificate[]) => {
    badIssued[name] = [issued, chain ?? [issued.cert, issuing.cert]];
  };
  await mk(
    "expired",
    await leaf("CN=Expired Approver", {
      notBefore: at(-730),
      notAfter: at(-365),
      eku: approverEku,
      emails: badEmail("expired"),
    }),
  );
  await mk(
    "not-yet-valid",
    await leaf("CN=Future Approver", {
      notBefore: at(365),
      notAfter: at(730),
      eku: approverEku,
      emails: badEmail("future"),
    }),
  );
  const wrong = await issueCertificate({
    subject: "CN=Wrong Issuer Approver",
    emails: badEmail("wrong-issuer"),
    spec,
    issuer: issuerOf(rogue),
    notBefore: at(-1),
    notAfter: at(365),
    keyUsage: SIGNING_KU,
    eku: approverEku,
  });
  await mk("wrong-issuer", wrong, [wrong.cert, rogue.cert]);
  await mk(
    "no-key-usage",
    await leaf("CN=No Key Usage Approver", { keyUsage: null, eku: approverEku, emails: badEmail("no-ku") }),
  );
  const self = await issueCertificate({
    subject: "CN=Self Signed Approver",
    emails: badEmail("self-signed"),
    spec,
    notBefore: at(-1),
    notAfter: at(365),
    keyUsage: SIGNING_KU,
    eku: approverEku,
  });
  await mk("self-signed", self, [self.cert]);
  const revoked = await leaf("CN=Revoked Approver", { eku: approverEku, emails: badEmail("revoked") });
  await mk("revoked", revoked);
  const bad = {} as Record<BadCert, Identity>;
  for (const name of BAD_CERTS) {
    const [issued, chain] = badIssued[name];
    bad[name] = await save(join("bad", name), issued, chain);
  }

  const crl = await x509.X509CrlGenerator.create({
    issuer: issuing.cert.subject,
    thisUpdate: at(0),
    nextUpdate: at(30),
    entries: [
      {
        serialNumber: revoked.cert.serialNumber,
        revocationDate: at(-0.5),
        reason: x509.X509CrlReason.keyCompromise,
      },
    ],
    signingKey: issuing.keys.privateKey,
    signingAlgorithm: certSigningAlgorithm(spec),
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(issuing.cert)],
  });
  const trust = {
    anchors: join(dir, "trust/anchors.pem"),
    intermediates: join(dir, "trust/intermediates.pem"),
    crl: join(dir, "trust/crl.pem"),
  };
  await writeFile(trust.anchors, root.cert.toString("pem") + "\n");
  await writeFile(trust.intermediates, issuing.cert.toString("pem") + "\n");
  // "X509 CRL" is the PEM label openssl and RFC 7468 use.
  await writeFile(trust.crl, toPem(crl.rawData, "X509 CRL"));
  // CA keys stay beside the PKI so a developer can issue more; this is a development PKI only.
  await writeFile(join(dir, "root-ca.key"), pkcs8Pem(await toKeyObject(root.keys.privateKey)), {
    mode: 0o600,
  });
  await writeFile(join(dir, "issuing-ca.key"), pkcs8Pem(await toKeyObject(issuing.keys.privateKey)), {
    mode: 0o600,
  });
  await writeFile(join(dir, "p12.passphrase"), `${p12Passphrase}\n`, { mode: 0o600 });

  const manifest: DevPkiManifest = {
    format: "sealgate.dev-pki/1",
    spec,
    createdAt: now.toISOString(),
    p12Passphrase: `file:${join(dir, "p12.passphrase")}`,
    trust,
    sealing,
    tsa,
    approvers,
    bad,
  };
  await writeFile(join(dir, "pki.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function issuerOf(i: Issued): Issuer {
  return { cert: i.cert, key: i.keys.privateKey, spec: i.spec };
}
