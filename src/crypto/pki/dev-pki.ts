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

/** What every step below issues and writes with: the two CAs, the key spec, dates and files. */
interface DevCa {
  dir: string;
  spec: KeySpec;
  org: string;
  /** `days` from now (negative: in the past). */
  at: (days: number) => Date;
  p12Passphrase: string;
  root: Issued;
  issuing: Issued;
}

type LeafOptions = Partial<Parameters<typeof issueCertificate>[0]>;

const CA_KU = KU.keyCertSign | KU.cRLSign;
/** Never a sealing EKU (documentSigning, codeSigning): path validation refuses those for approvals. */
const APPROVER_EKU = { oids: [OID.emailProtection, OID.clientAuth] };

export async function createDevPki(dir: string, opts: DevPkiOptions = {}): Promise<DevPkiManifest> {
  const spec = opts.spec ?? "ec-p256";
  const org = opts.org ?? "Sealgate Demo Org";
  const now = opts.now ?? new Date();
  const at = (days: number) => new Date(now.getTime() + days * DAY);
  const p12Passphrase = randomBytes(12).toString("base64url");
  await mkdir(join(dir, "approvers"), { recursive: true });
  await mkdir(join(dir, "bad"), { recursive: true });
  await mkdir(join(dir, "trust"), { recursive: true });

  const ca: DevCa = { dir, spec, org, at, p12Passphrase, ...(await issueCas(spec, org, at)) };
  const { sealing, tsa } = await issueSealingAndTsa(ca);
  const approvers = await issueApprovers(ca, opts.approvers ?? DEMO_APPROVERS);
  const { bad, revoked } = await issueBadCerts(ca);
  const trust = await writeTrust(ca, revoked);

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

/** Root and issuing CA. They predate every leaf, as in a real organisation, so the expired leaf chains properly. */
async function issueCas(spec: KeySpec, org: string, at: DevCa["at"]) {
  const root = await issueCertificate({
    subject: `CN=Sealgate Dev Root CA, O=${org}`,
    spec,
    notBefore: at(-1095),
    notAfter: at(3650),
    ca: { pathLength: 1 },
    keyUsage: CA_KU,
  });
  const issuing = await issueCertificate({
    subject: `CN=Sealgate Dev Issuing CA, O=${org}`,
    spec,
    issuer: issuerOf(root),
    notBefore: at(-1095),
    notAfter: at(1825),
    ca: { pathLength: 0 },
    keyUsage: CA_KU,
  });
  return { root, issuing };
}

/** A signing certificate from the issuing CA, valid from yesterday for two years unless `extra` says otherwise. */
function issueLeaf(ca: DevCa, subject: string, extra: LeafOptions = {}) {
  return issueCertificate({
    subject,
    spec: ca.spec,
    issuer: issuerOf(ca.issuing),
    notBefore: ca.at(-1),
    notAfter: ca.at(730),
    keyUsage: SIGNING_KU,
    ...extra,
  });
}

/** `<base>.key`, `<base>.pem` (the chain) and `<base>.p12` under the PKI's folder. */
async function saveIdentity(
  ca: DevCa,
  base: string,
  issued: Issued,
  chain: x509.X509Certificate[],
): Promise<Identity> {
  const key = await toKeyObject(issued.keys.privateKey);
  const pkcs8 = await subtle.exportKey("pkcs8", issued.keys.privateKey);
  const files = {
    key: join(ca.dir, `${base}.key`),
    cert: join(ca.dir, `${base}.pem`),
    p12: join(ca.dir, `${base}.p12`),
  };
  await writeFile(files.key, pkcs8Pem(key), { mode: 0o600 });
  await writeFile(files.cert, chain.map((c) => c.toString("pem")).join("\n") + "\n");
  await writeFile(files.p12, await writePkcs12(pkcs8, chain, ca.p12Passphrase), { mode: 0o600 });
  return { ...files, fingerprint: await fingerprint(issued.cert) };
}

async function issueSealingAndTsa(ca: DevCa) {
  const sealingCert = await issueLeaf(ca, `CN=sealgate evidence sealing, O=${ca.org}`, {
    emails: ["sealgate@example.org"],
    // documentSigning (RFC 9336) and codeSigning (OpenSSF model signing) are what make it a
    // sealing certificate to sealgate; approver certificates never carry either. emailProtection
    // is there only for third-party tools, tested with OpenSSL 3.0 and poppler 22+: without it
    // `openssl verify/cms -verify -purpose smimesign` fail ("unsupported certificate purpose";
    // OpenSSL 3.0 has no purpose that accepts documentSigning or codeSigning) and pdfsig reports
    // "Unknown issue with Certificate" (NSS checks certificateUsageEmailSigner).
    eku: { oids: [OID.documentSigning, OID.codeSigning, OID.emailProtection] },
  });
  const sealing = await saveIdentity(ca, "sealing", sealingCert, [sealingCert.cert, ca.issuing.cert]);
  const tsaCert = await issueLeaf(ca, `CN=Sealgate Dev TSA, O=${ca.org}`, {
    // RFC 3161 2.3: exactly one EKU, timeStamping, marked critical.
    eku: { oids: [OID.timeStamping], critical: true },
  });
  const tsa = await saveIdentity(ca, "tsa", tsaCert, [tsaCert.cert, ca.issuing.cert]);
  return { sealing, tsa };
}

async function issueApprovers(ca: DevCa, people: DevPerson[]): Promise<DevPkiManifest["approvers"]> {
  const approvers: DevPkiManifest["approvers"] = [];
  for (const person of people) {
    const issued = await issueLeaf(ca, `CN=${person.name}, O=${ca.org}`, {
      emails: [person.email],
      eku: APPROVER_EKU,
    });
    const s = slug(person.email);
    approvers.push({
      ...person,
      slug: s,
      ...(await saveIdentity(ca, join("approvers", s), issued, [issued.cert, ca.issuing.cert])),
    });
  }
  return approvers;
}

/** One approver certificate per BAD_CERTS reason; `revoked` is returned for the CRL to list. */
async function issueBadCerts(ca: DevCa) {
  const { spec, at } = ca;
  const badEmail = (name: string) => [`${name}@example.org`];
  const rogue = await issueCertificate({
    subject: `CN=Rogue CA, O=Not ${ca.org}`,
    spec,
    notBefore: at(-1),
    notAfter: at(3650),
    ca: {},
    keyUsage: CA_KU,
  });
  const expired = await issueLeaf(ca, "CN=Expired Approver", {
    notBefore: at(-730),
    notAfter: at(-365),
    eku: APPROVER_EKU,
    emails: badEmail("expired"),
  });
  const future = await issueLeaf(ca, "CN=Future Approver", {
    notBefore: at(365),
    notAfter: at(730),
    eku: APPROVER_EKU,
    emails: badEmail("future"),
  });
  const wrong = await issueCertificate({
    subject: "CN=Wrong Issuer Approver",
    emails: badEmail("wrong-issuer"),
    spec,
    issuer: issuerOf(rogue),
    notBefore: at(-1),
    notAfter: at(365),
    keyUsage: SIGNING_KU,
    eku: APPROVER_EKU,
  });
  const noKeyUsage = await issueLeaf(ca, "CN=No Key Usage Approver", {
    keyUsage: null,
    eku: APPROVER_EKU,
    emails: badEmail("no-ku"),
  });
  const self = await issueCertificate({
    subject: "CN=Self Signed Approver",
    emails: badEmail("self-signed"),
    spec,
    notBefore: at(-1),
    notAfter: at(365),
    keyUsage: SIGNING_KU,
    eku: APPROVER_EKU,
  });
  const revoked = await issueLeaf(ca, "CN=Revoked Approver", {
    eku: APPROVER_EKU,
    emails: badEmail("revoked"),
  });
  // Each with the chain it presents: the issuing CA's, except where that is the fault.
  const viaIssuing = (issued: Issued) => [issued.cert, ca.issuing.cert];
  const issued: Record<BadCert, [Issued, x509.X509Certificate[]]> = {
    expired: [expired, viaIssuing(expired)],
    "not-yet-valid": [future, viaIssuing(future)],
    "wrong-issuer": [wrong, [wrong.cert, rogue.cert]],
    "no-key-usage": [noKeyUsage, viaIssuing(noKeyUsage)],
    "self-signed": [self, [self.cert]],
    revoked: [revoked, viaIssuing(revoked)],
  };
  const bad = {} as Record<BadCert, Identity>;
  for (const name of BAD_CERTS) {
    const [cert, chain] = issued[name];
    bad[name] = await saveIdentity(ca, join("bad", name), cert, chain);
  }
  return { bad, revoked };
}

/**
 * The trust files a verifier is given (anchors, intermediates, a CRL revoking `revoked`), the CA
 * keys, kept beside the PKI so a developer can issue more (a development PKI only), and the
 * PKCS#12 passphrase.
 */
async function writeTrust(ca: DevCa, revoked: Issued): Promise<DevPkiManifest["trust"]> {
  const { dir, at, issuing, root } = ca;
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
    signingAlgorithm: certSigningAlgorithm(ca.spec),
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
  await writeFile(join(dir, "root-ca.key"), pkcs8Pem(await toKeyObject(root.keys.privateKey)), {
    mode: 0o600,
  });
  await writeFile(join(dir, "issuing-ca.key"), pkcs8Pem(await toKeyObject(issuing.keys.privateKey)), {
    mode: 0o600,
  });
  await writeFile(join(dir, "p12.passphrase"), `${ca.p12Passphrase}\n`, { mode: 0o600 });
  return trust;
}

function issuerOf(i: Issued): Issuer {
  return { cert: i.cert, key: i.keys.privateKey, spec: i.spec };
}
