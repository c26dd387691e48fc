import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { SealgateError } from "../../src/core/errors.js";
import type { VersionChange, VersionChangedEvent } from "./events.js";

/*
 * MLflow (3.3+) signs each delivery: X-MLflow-Signature = "v1," + base64(HMAC-SHA256(secret,
 * "{delivery_id}.{timestamp}.{raw_body}")). Webhooks are fire-and-forget on MLflow's side, so
 * they only make reconciling faster; the reconcile poll still catches whatever they miss.
 */

const Payload = z.object({
  entity: z.string(),
  action: z.string(),
  timestamp: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
});

const Str = z.string().min(1);
const Version = z.union([z.string().regex(/^[1-9]\d{0,17}$/), z.int().positive().transform(String)]);

export interface WebhookOptions {
  secret: string;
  /** Deliveries older or newer than this are refused (default 300 s). */
  toleranceSeconds?: number;
  now?: () => number;
  /** Looks up which version held an alias, for alias-deleted deliveries (which name none). */
  versionOfAlias?: (model: string, alias: string) => string | undefined;
  /** Delivery ids accepted before a restart, oldest first, with their timestamps (seconds). */
  seen?: Iterable<readonly [string, number]>;
  /** Where `receiveDurably` writes each accepted id, so a restart still refuses its replay. */
  journal?: { record(deliveryId: string, timestamp: number): Promise<void> };
}

export interface WebhookDelivery {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

/** Verifies deliveries and turns them into the same events the reconcile pass emits. */
export class WebhookReceiver {
  private readonly seen = new Map<string, number>();
  private readonly tolerance: number;
  private readonly now: () => number;

  constructor(private readonly options: WebhookOptions) {
    if (!options.secret) throw new SealgateError("CONFIG_INVALID", "webhook secret is empty");
    this.tolerance = options.toleranceSeconds ?? 300;
    this.now = options.now ?? Date.now;
    for (const [id, ts] of options.seen ?? []) this.seen.set(id, ts);
  }

  /**
   * Verify signature, freshness and uniqueness; then parse. Throws a typed error on any failure.
   * The delivery id is remembered in memory only; `receiveDurably` also writes it to the journal.
   */
  receive(delivery: WebhookDelivery): VersionChangedEvent | null {
    this.admit(delivery);
    return this.parse(delivery);
  }

  /** `receive`, resolving once the delivery id is in the journal (a restart still refuses its replay). */
  async receiveDurably(delivery: WebhookDelivery): Promise<VersionChangedEvent | null> {
    const { deliveryId, timestamp } = this.admit(delivery);
    try {
      await this.options.journal?.record(deliveryId, timestamp);
    } catch (cause) {
      // Unacknowledged, so MLflow may send it again; it must not then be called a replay.
      this.seen.delete(deliveryId);
      throw new SealgateError(
        "IO",
        `delivery ${clip(deliveryId)}: cannot record its id for replay protection`,
        { cause },
      );
    }
    return this.parse(delivery);
  }

  private parse(delivery: WebhookDelivery): VersionChangedEvent | null {
    return toEvent(
      parseJson(delivery.rawBody),
      new Date(this.now()).toISOString(),
      this.options.versionOfAlias,
    );
  }

  /** Signature, freshness, uniqueness; marks the id seen. Synchronous, so two racing copies cannot both pass. */
  private admit(delivery: WebhookDelivery): { deliveryId: string; timestamp: number } {
    const deliveryId = header(delivery.headers, "x-mlflow-delivery-id");
    const timestamp = header(delivery.headers, "x-mlflow-timestamp");
    const signature = header(delivery.headers, "x-mlflow-signature");
    if (!deliveryId || !timestamp || !signature) {
      throw new SealgateError(
        "WEBHOOK_SIGNATURE_INVALID",
        "delivery lacks X-MLflow-Delivery-Id, X-MLflow-Timestamp or X-MLflow-Signature",
      );
    }
    const expected = createHmac("sha256", this.options.secret)
      .update(`${deliveryId}.${timestamp}.`)
      .update(delivery.rawBody)
      .digest();
    const valid = signature
      .split(" ")
      .filter((s) => s.startsWith("v1,"))
      .some((s) => {
        const given = Buffer.from(s.slice(3), "base64");
        return given.length === expected.length && timingSafeEqual(given, expected);
      });
    if (!valid)
      throw new SealgateError(
        "WEBHOOK_SIGNATURE_INVALID",
        `delivery ${clip(deliveryId)}: signature mismatch`,
      );
    // Checked after the signature so an attacker learns nothing from the order of checks.
    const nowSec = Math.floor(this.now() / 1000);
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowSec - Number(timestamp)) > this.tolerance) {
      throw new SealgateError(
        "WEBHOOK_TIMESTAMP_STALE",
        `delivery ${clip(deliveryId)}: timestamp ${clip(timestamp)} is outside the ${this.tolerance} s window`,
      );
    }
    this.forgetExpired(nowSec);
    if (this.seen.has(deliveryId)) {
      throw new SealgateError("WEBHOOK_REPLAYED", `delivery ${clip(deliveryId)} was already received`);
    }
    this.seen.set(deliveryId, Number(timestamp));
    return { deliveryId, timestamp: Number(timestamp) };
  }

  private forgetExpired(nowSec: number) {
    // A delivery id only needs remembering while its timestamp would still pass the window.
    for (const [id, ts] of this.seen) {
      if (nowSec - ts > this.tolerance) this.seen.delete(id);
      else break;
    }
  }
}

function parseJson(raw: Buffer): z.infer<typeof Payload> {
  try {
    return Payload.parse(JSON.parse(raw.toString("utf8")));
  } catch (cause) {
    throw new SealgateError("WEBHOOK_PAYLOAD_INVALID", "delivery body is not an MLflow webhook payload", {
      cause,
    });
  }
}

/** The change a payload describes; null for events that concern no version (registered_model.created). */
export function toEvent(
  p: z.infer<typeof Payload>,
  observedAt: string,
  versionOfAlias?: (model: string, alias: string) => string | undefined,
): VersionChangedEvent | null {
  const d = p.data;
  const field = <T>(schema: z.ZodType<T>, name: string): T => {
    const r = schema.safeParse(d[name]);
    if (!r.success) {
      throw new SealgateError(
        "WEBHOOK_PAYLOAD_INVALID",
        `${p.entity}.${p.action} payload: data.${name} is invalid`,
      );
    }
    return r.data;
  };
  const event = (version: string | null, changes: VersionChange[]): VersionChangedEvent => ({
    model: field(Str, "name"),
    version,
    origin: "webhook",
    changes,
    observedAt,
  });
  switch (`${p.entity}.${p.action}`) {
    case "model_version.created":
      return event(field(Version, "version"), [{ kind: "created" }]);
    case "model_version_tag.set":
      return event(field(Version, "version"), [
        { kind: "tag", key: field(Str, "key"), before: null, after: field(z.string(), "value") },
      ]);
    case "model_version_tag.deleted":
      return event(field(Version, "version"), [
        { kind: "tag", key: field(Str, "key"), before: null, after: null },
      ]);
    case "model_version_alias.created":
      return event(field(Version, "version"), [
        { kind: "alias", alias: field(Str, "alias"), before: false, after: true },
      ]);
    case "model_version_alias.deleted": {
      const alias = field(Str, "alias");
      const version = versionOfAlias?.(field(Str, "name"), alias) ?? null;
      return event(version, [{ kind: "alias", alias, before: true, after: false }]);
    }
    default:
      return null;
  }
}

function header(h: WebhookDelivery["headers"], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function clip(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}

/** A refused delivery, for the log and the metrics: what was refused, why, and which delivery. */
export interface WebhookRefusal {
  /** The error code (WEBHOOK_*), or IO when the id could not be recorded; "internal" for a bug. */
  code: string;
  status: number;
  reason: string;
  /** X-MLflow-Delivery-Id as sent (printable ASCII, clipped); absent when the header is missing. */
  deliveryId?: string;
}

const STATUS: Record<string, number> = { WEBHOOK_PAYLOAD_INVALID: 400, WEBHOOK_TOO_LARGE: 413, IO: 503 };

/** A header value fit for one log field: attacker-chosen, so no control characters and no essays. */
function printable(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const safe = s.replace(/[^\x20-\x7e]/g, "?");
  return safe.length > 80 ? `${safe.slice(0, 80)}…` : safe;
}

function refusal(err: unknown, deliveryId: string | undefined): WebhookRefusal {
  const code = err instanceof SealgateError ? err.code : "internal";
  const reason = err instanceof Error ? err.message : String(err);
  return {
    code,
    status: STATUS[code] ?? (code === "internal" ? 500 : 401),
    reason,
    ...(deliveryId ? { deliveryId } : {}),
  };
}

/**
 * A node:http handler for the daemon's /hooks/mlflow route: 204 once a verified delivery's id is
 * recorded, 401 on a bad signature or stale/replayed delivery, 400 on a bad payload, 413 when
 * too large, 503 when its id cannot be recorded. Every refusal reaches `onReject`.
 *
 * A body over `maxBytes` is refused as soon as it shows: at once when Content-Length says so,
 * else when the bytes read pass the limit (a sender may lie about or omit the length). The
 * 413 goes out with Connection: close and the socket is destroyed once it is written, so the
 * rest of the body is never read.
 */
export function webhookHandler(
  receiver: WebhookReceiver,
  onEvent: (event: VersionChangedEvent) => void,
  onReject: (refusal: WebhookRefusal) => void = () => {},
  maxBytes = 1 << 20,
) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const refuse = (err: unknown, close = false) => {
      if (refused) return;
      refused = true;
      const r = refusal(err, printable(header(req.headers, "x-mlflow-delivery-id")));
      onReject(r);
      if (res.headersSent) return void res.destroy();
      if (close) res.on("finish", () => req.socket.destroy());
      res
        .writeHead(r.status, { "content-type": "text/plain", ...(close ? { connection: "close" } : {}) })
        .end(`${r.code}\n`);
    };
    const tooLarge = (what: string) =>
      new SealgateError("WEBHOOK_TOO_LARGE", `delivery body ${what}, over the ${maxBytes}-byte limit`);
    const declared = Number(header(req.headers, "content-length"));
    if (declared > maxBytes) return refuse(tooLarge(`is ${declared} bytes`), true);
    req.on("data", (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > maxBytes) return refuse(tooLarge(`passed ${size} bytes before it was cut off`), true);
      chunks.push(c);
    });
    req.on("end", () => {
      if (refused) return;
      receiver
        .receiveDurably({ headers: req.headers, rawBody: Buffer.concat(chunks) })
        .then((event) => {
          if (event) onEvent(event);
          res.writeHead(204).end();
        })
        .catch((err: unknown) => refuse(err));
    });
  };
}
