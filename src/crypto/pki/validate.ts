import { type ErrorCode, SealgateError } from "../../core/errors.js";
import type { Trust } from "./trust.js";
import { OID, x509 } from "./x509.js";

/*
 * Certificate path validation (RFC 5280 section 6, the parts sealgate relies on): build a
 * path from the signer to a configured trust anchor (never to a root the signer supplied),
 * then check signatures, validity at the signing time, CA constraints, key usage, the
 * extended key usage each purpose needs, and revocation by CRL. Every failure names the
 * certificate and the rule.
 */

export type Purpose = "sealing" | "approval" | "timestamping";

/**
 * Any one of these EKUs qualifies a leaf for the purpose; anyExtendedKeyUsage qualifies for
 * none. Sealing and approval are disjoint so that an approver's key can never seal a record:
 * emailProtection alone (which both carry, for S/MIME tools) proves neither.
 */
const PURPOSE_EKUS: Record<Purpose, readonly string[]> = {
  sealing: [OID.documentSigning, OID.codeSigning],
  approval: [OID.emailProtection, OID.clientAuth],
  timestamping: [OID.timeStamping],
};

/** EKUs that make a leaf a sealing certificate, which therefore may not sign an approval. */
const SEALING_ONLY = PURPOSE_EKUS.sealing;

const MAX_PATH = 8;
const KU = x509.KeyUsageFlags;

export class CertificateError extends SealgateError {
  constructor(
    code: ErrorCode,
    readonly subject: string,
    message: string,
  ) {
    super(code, `certificate "${subject}": ${message}`);
    this.name = "CertificateError";
  }
}

export interface ValidatedPath {
  /** Leaf first, trust anchor last. */
  path: x509.X509Certificate[];
}

const same = (a: x509.X509Certificate, b: x509.X509Certificate) =>
  Buffer.from(a.rawData).equals(Buffer.from(b.rawData));

async function signedBy(cert: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  try {
    return await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

async function buildPath(leaf: x509.X509Certificate, pool: x509.X509Certificate[], trust: Trust) {
  const path = [leaf];
  for (let cur = leaf; ;) {
    if (trust.anchors.some((a) => same(a, cur))) return path;
    if (path.length > MAX_PATH)
      throw new CertificateError("CERT_PATH_TOO_LONG", leaf.subject, "chain too long");
    const named = [...trust.anchors, ...pool].filter((c) => c.subject === cur.issuer && !same(c, cur));
    let issuer: x509.X509Certificate | undefined;
    for (const c of named) {
      if (await signedBy(cur, c)) {
        issuer = c;
        break;
      }
    }
    if (!issuer) {
      const trusted = [...trust.anchors, ...trust.intermediates];
      if (named.some((c) => trusted.includes(c))) {
        throw new CertificateError(
          "CERT_UNTRUSTED_ROOT",
          cur.subject,
          `not signed by the trusted "${cur.issuer}": another key holds that name`,
        );
      }
      if (named.length > 0) {
        throw new CertificateError(
          "CERT_BAD_SIGNATURE",
          cur.subject,
          `its signature does not verify with ${cur.issuer}`,
        );
      }
      const selfSigned = cur.subject === cur.issuer && (await signedBy(cur, cur));
      throw new CertificateError(
        "CERT_UNTRUSTED_ROOT",
        cur.subject,
        selfSigned
          ? "self-signed and not one of the configured trust anchors"
          : `issuer "${cur.issuer}" is not a configured trust anchor or known intermediate`,
      );
    }
    path.push(issuer);
    cur = issuer;
  }
}

function checkValidity(c: x509.X509Certificate, at: Date) {
  if (at < c.notBefore) {
    throw new CertificateError(
      "CERT_NOT_YET_VALID",
      c.subject,
      `not valid before ${c.notBefore.toISOString()} (checked at ${at.toISOString()})`,
    );
  }
  if (at > c.notAfter) {
    throw new CertificateError(
      "CERT_EXPIRED",
      c.subject,
      `expired ${c.notAfter.toISOString()} (checked at ${at.toISOString()})`,
    );
  }
}

function checkIssuerConstraints(ca: x509.X509Certificate, intermediatesBelow: number) {
  const bc = ca.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca)
    throw new CertificateError(
      "CERT_NOT_CA",
      ca.subject,
      "issues certificates but is not a CA (basicConstraints)",
    );
  if (bc.pathLength !== undefined && intermediatesBelow > bc.pathLength) {
    throw new CertificateError(
      "CERT_PATH_TOO_LONG",
      ca.subject,
      `pathLenConstraint ${bc.pathLength} exceeded`,
    );
  }
  const ku = ca.getExtension(x509.KeyUsagesExtension);
  if (ku && !(ku.usages & KU.keyCertSign)) {
    throw new CertificateError("CERT_BAD_KEY_USAGE", ca.subject, "CA without keyCertSign");
  }
}

function checkLeaf(leaf: x509.X509Certificate, purpose: Purpose) {
  if (leaf.getExtension(x509.BasicConstraintsExtension)?.ca) {
    throw new CertificateError("CERT_BAD_KEY_USAGE", leaf.subject, "a CA certificate may not sign evidence");
  }
  const ku = leaf.getExtension(x509.KeyUsagesExtension);
  if (!ku) throw new CertificateError("CERT_BAD_KEY_USAGE", leaf.subject, "no keyUsage extension");
  if (!(ku.usages & (KU.digitalSignature | KU.nonRepudiation))) {
    throw new CertificateError(
      "CERT_BAD_KEY_USAGE",
      leaf.subject,
      "keyUsage lacks digitalSignature and nonRepudiation",
    );
  }
  const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension);
  const usages = (eku?.usages ?? []).map(String);
  const wanted = PURPOSE_EKUS[purpose];
  if (purpose === "timestamping") {
    // RFC 3161 2.3: the one and only EKU, critical.
    if (!eku?.critical || usages.length !== 1 || usages[0] !== OID.timeStamping) {
      throw new CertificateError(
        "CERT_BAD_EXTENDED_KEY_USAGE",
        leaf.subject,
        "a TSA needs exactly the critical timeStamping EKU",
      );
    }
    return;
  }
  if (!usages.some((u) => wanted.includes(u))) {
    throw new CertificateError(
      "CERT_BAD_EXTENDED_KEY_USAGE",
      leaf.subject,
      `extendedKeyUsage allows none of ${wanted.join(", ")} needed for ${purpose}`,
    );
  }
  if (purpose === "approval" && usages.some((u) => SEALING_ONLY.includes(u))) {
    throw new CertificateError(
      "CERT_BAD_EXTENDED_KEY_USAGE",
      leaf.subject,
      "a sealing certificate (documentSigning or codeSigning) may not sign an approval",
    );
  }
}

async function checkRevocation(
  c: x509.X509Certificate,
  issuer: x509.X509Certificate,
  trust: Trust,
  at: Date,
) {
  for (const crl of trust.crls) {
    if (crl.issuer !== c.issuer) continue;
    if (!(await crl.verify({ publicKey: issuer.publicKey }).catch(() => false))) continue;
    const entry = crl.findRevoked(c);
    if (!entry) continue;
    // The signing time is the signer's own claim: after key compromise it proves nothing.
    if (entry.revocationDate <= at || entry.reason === x509.X509CrlReason.keyCompromise) {
      throw new CertificateError(
        "CERT_REVOKED",
        c.subject,
        `revoked ${entry.revocationDate.toISOString()} (CRL of ${crl.issuer})`,
      );
    }
  }
}

/**
 * Validate `leaf` for `purpose` at time `at`. `supplied` are certificates that came with the
 * signature (x5c, CMS certificates): they may fill the path but never act as anchors.
 */
export async function validatePath(
  leaf: x509.X509Certificate,
  supplied: readonly x509.X509Certificate[],
  trust: Trust,
  opts: { at: Date; purpose: Purpose },
): Promise<ValidatedPath> {
  const path = await buildPath(leaf, [...supplied, ...trust.intermediates], trust);
  for (const c of path) checkValidity(c, opts.at);
  for (let i = 1; i < path.length; i++) checkIssuerConstraints(path[i]!, i - 1);
  checkLeaf(leaf, opts.purpose);
  for (let i = 0; i < path.length - 1; i++) await checkRevocation(path[i]!, path[i + 1]!, trust, opts.at);
  return { path };
}
