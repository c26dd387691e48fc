import { createHash, randomBytes } from "node:crypto";
import type { SimulatedRecord } from "../../sdk/simulator.js";
import { correlationOf } from "../title.js";

/*
 * What the simulated Vanta tenant holds: one OAuth application (with its single active
 * token), documents and their uploads. Plain data; the routes enforce the protocol.
 */

export const SCOPES = ["vanta-api.all:read", "vanta-api.all:write", "vanta-api.documents:upload"] as const;

export interface SimDocument {
  id: string;
  ownerId: string;
  category: string;
  title: string;
  description: string;
  timeSensitivity: string;
  cadence: string;
  reminderWindow: string;
  isSensitive: boolean;
  uploadStatus: "Needs document" | "Needs update" | "OK";
  uploadStatusDate: string;
  url: string;
  submitted: boolean;
  uploads: SimUpload[];
}

export interface SimUpload {
  id: string;
  fileName: string;
  description: string | null;
  mimeType: string;
  creationDate: string;
  effectiveDate: string;
  deletionDate: string | null;
  bytes: Buffer;
  sha256: string;
}

export interface ActiveToken {
  value: string;
  expiresAt: number;
  scopes: Set<string>;
}

/** Vanta ids look like MongoDB ObjectIds. */
export const objectId = () => randomBytes(12).toString("hex");

export class VantaState {
  readonly clientId = `sim-client-${objectId().slice(0, 8)}`;
  readonly clientSecret = `vcs_${randomBytes(24).toString("base64url")}`;
  readonly ownerId = objectId();
  /** ONLY ONE ACTIVE TOKEN PER APPLICATION: minting replaces this, revoking the old one. */
  active: ActiveToken | null = null;
  readonly issued: string[] = [];
  readonly documents: SimDocument[] = [];
  readonly counters = new Map<string, number>();

  count(key: string, by = 1): void {
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  mint(scopes: Set<string>, ttlSeconds: number, now: number): ActiveToken {
    const token = {
      value: `vat_${randomBytes(32).toString("base64url")}`,
      expiresAt: now + ttlSeconds * 1000,
      scopes,
    };
    if (this.active) this.count("tokensRevoked");
    this.active = token;
    this.issued.push(token.value);
    this.count("tokensMinted");
    return token;
  }

  revokeAll(): void {
    if (this.active) this.count("tokensRevoked");
    this.active = null;
  }

  document(id: string): SimDocument | undefined {
    return this.documents.find((d) => d.id === id);
  }

  addUpload(
    doc: SimDocument,
    file: { name: string; type: string; bytes: Buffer },
    description: string | null,
    effective: string | null,
  ): SimUpload {
    const now = new Date().toISOString();
    const upload: SimUpload = {
      id: objectId(),
      fileName: file.name,
      description,
      mimeType: file.type || "application/octet-stream",
      creationDate: now,
      effectiveDate: effective ?? now,
      deletionDate: null,
      bytes: file.bytes,
      sha256: createHash("sha256").update(file.bytes).digest("hex"),
    };
    doc.uploads.push(upload);
    doc.uploadStatus = doc.submitted ? "Needs update" : doc.uploadStatus;
    return upload;
  }

  records(): SimulatedRecord[] {
    return this.documents.map((d) => ({
      id: d.id,
      correlation: correlationOf(d.title),
      fields: {
        title: d.title,
        description: d.description,
        timeSensitivity: d.timeSensitivity,
        cadence: d.cadence,
        reminderWindow: d.reminderWindow,
        isSensitive: d.isSensitive,
        uploadStatus: d.uploadStatus,
        submitted: d.submitted,
      },
      files: d.uploads
        .filter((u) => u.deletionDate === null)
        .map((u) => ({ name: u.fileName, size: u.bytes.length, sha256: u.sha256 })),
    }));
  }
}
