import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDevPki, type DevPkiManifest } from "../../src/crypto/pki/dev-pki.js";
import type { KeySpec } from "../../src/crypto/pki/keys.js";
import { loadTrust, type Trust } from "../../src/crypto/pki/trust.js";

const cache = new Map<string, Promise<{ pki: DevPkiManifest; trust: Trust; dir: string }>>();

/** A development PKI made by the same code as `sealgate pki init`, once per key type and test file. */
export function devPki(spec: KeySpec = "ec-p256", tag = "") {
  const key = `${spec}/${tag}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const dir = await mkdtemp(join(tmpdir(), `sealgate-pki-${spec}-`));
      const pki = await createDevPki(dir, { spec });
      const trust = await loadTrust({
        anchors: pki.trust.anchors,
        intermediates: pki.trust.intermediates,
        crls: [pki.trust.crl],
      });
      return { pki, trust, dir };
    })();
    cache.set(key, p);
  }
  return p;
}
