import { readFile } from "node:fs/promises";
import { SealgateError } from "../../core/errors.js";
import { parsePemCertificates, x509 } from "./x509.js";

/** What a verifier trusts: the organisation's CA roots, known intermediates, and CRLs. */
export interface Trust {
  anchors: x509.X509Certificate[];
  intermediates: x509.X509Certificate[];
  crls: x509.X509Crl[];
}

export interface TrustFiles {
  anchors: string;
  intermediates?: string;
  crls?: string[];
}

async function text(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    throw new SealgateError("TRUST_INVALID", `cannot read ${what} ${path}`, { cause });
  }
}

function parseCrls(pem: string, source: string): x509.X509Crl[] {
  const blocks = pem.match(/-----BEGIN (X509 )?CRL-----[\s\S]+?-----END (X509 )?CRL-----/g) ?? [];
  if (blocks.length === 0) throw new SealgateError("TRUST_INVALID", `${source} holds no PEM CRL`);
  return blocks.map((b) => new x509.X509Crl(b.replace(/(BEGIN|END) (X509 )?CRL/g, "$1 CRL")));
}

export async function loadTrust(files: TrustFiles): Promise<Trust> {
  const wrap = <T>(fn: () => T, source: string): T => {
    try {
      return fn();
    } catch (cause) {
      if (cause instanceof SealgateError) throw cause;
      throw new SealgateError("TRUST_INVALID", `${source}: ${(cause as Error).message}`, { cause });
    }
  };
  const anchors = wrap(() => parsePemCertificates, files.anchors)(
    await text(files.anchors, "trust anchors"),
    files.anchors,
  );
  if (anchors.length === 0) {
    throw new SealgateError(
      "TRUST_INVALID",
      `${files.anchors} holds no certificate; it must list the trusted root CAs`,
    );
  }
  const intermediates = files.intermediates
    ? parsePemCertificates(await text(files.intermediates, "intermediates"), files.intermediates)
    : [];
  const crls: x509.X509Crl[] = [];
  for (const f of files.crls ?? []) crls.push(...wrap(() => parseCrls, f)(await text(f, "CRL"), f));
  return { anchors, intermediates, crls };
}
