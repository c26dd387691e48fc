// The pipeline, bottom to top. A file may import only from its own folder or from a folder on an
// earlier row; folders on the same row (sibling connectors) may not import each other.
// The README's "Architecture" section draws the same table.
export const LAYERS: { layer: string; units: string[] }[] = [
  { layer: "core", units: ["src/core"] },
  { layer: "record", units: ["src/record"] },
  { layer: "crypto", units: ["src/crypto/pki"] },
  { layer: "crypto", units: ["src/crypto/sign"] },
  { layer: "policy", units: ["src/policy"] },
  { layer: "source", units: ["src/source"] },
  { layer: "evidence", units: ["src/evidence/store"] },
  { layer: "evidence", units: ["src/evidence/ledger"] },
  { layer: "evidence", units: ["src/evidence/verify"] },
  { layer: "render", units: ["src/render/pdf"] },
  { layer: "governance", units: ["src/governance/cycle"] },
  { layer: "governance", units: ["src/governance/events"] },
  { layer: "governance", units: ["src/governance/review"] },
  { layer: "governance", units: ["src/governance/approvals"] },
  { layer: "governance", units: ["src/governance/seal"] },
  { layer: "governance", units: ["src/governance/gate"] },
  { layer: "bundle", units: ["src/bundle"] },
  { layer: "delivery", units: ["src/delivery/destination"] },
  { layer: "delivery", units: ["src/delivery/mapping"] },
  { layer: "delivery", units: ["src/delivery/outbox"] },
  { layer: "delivery", units: ["src/delivery/engine"] },
  { layer: "adapters", units: ["connectors/sdk"] },
  // Every other connectors/<kind>/ is a sibling on this row, and its simulator/ on the next: a new
  // destination is a new folder, with no edit here.
  { layer: "adapters", units: ["connectors/*"] },
  { layer: "adapters", units: ["connectors/*/simulator"] },
  { layer: "adapters", units: ["connectors"] },
  { layer: "pipeline", units: ["src/pipeline/sync"] },
  { layer: "pipeline", units: ["src/pipeline/daemon"] },
  { layer: "app", units: ["src/app"] },
  { layer: "cli", units: ["src/cli"] },
  { layer: "dev", units: ["src/dev"] },
];

export interface Unit {
  name: string; // the folder, e.g. "src/evidence/ledger" or "connectors/vanta/simulator"
  rank: number;
  layer: string;
}

/** The folder a file belongs to: the deepest row of LAYERS that contains it. */
export function unitOf(file: string): Unit | undefined {
  const dir = file.split("/").slice(0, -1);
  for (let depth = dir.length; depth > 0; depth--) {
    const prefix = dir.slice(0, depth);
    for (const [rank, row] of LAYERS.entries()) {
      for (const pattern of row.units) {
        const parts = pattern.split("/");
        if (parts.length !== prefix.length) continue;
        if (!parts.every((p, i) => (p === "*" ? prefix[i] !== "sdk" : p === prefix[i]))) continue;
        return { name: prefix.join("/"), rank, layer: row.layer };
      }
    }
  }
  return undefined;
}
