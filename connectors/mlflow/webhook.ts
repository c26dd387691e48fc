import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { SealgateError } from "../../src/errors.js";
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
  }

  /** Verify signature, freshness and uniqueness; then parse. Throws a typed error on any failure. */
  receive(delivery: WebhookDelivery): VersionChangedEvent | null {
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
    return toEvent(
      parseJson(delivery.rawBody),
      new Date(this.now()).toISOString(),
      this.options.versionOfAlias,
    );
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

/**
 * A node:http handler for the daemon's /hooks/mlflow route: 204 on a verified delivery,
 * 401 on a bad signature or stale/replayed delivery, 400 on a bad payload, 413 when too large.
 */
export function webhookHandler(
  receiver: WebhookReceiver,
  onEvent: (event: VersionChangedEvent) => void,
  onReject: (err: SealgateError) => void = () => {},
  maxBytes = 1 << 20,
) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(c);
    });
    req.on("end", () => {
      if (tooLarge) return void res.writeHead(413).end();
      try {
        const event = receiver.receive({ headers: req.headers, rawBody: Buffer.concat(chunks) });
        if (event) onEvent(event);
        res.writeHead(204).end();
      } catch (err) {
        if (!(err instanceof SealgateError)) throw err;
        onReject(err);
        res.writeHead(err.code === "WEBHOOK_PAYLOAD_INVALID" ? 400 : 401, { "content-type": "text/plain" });
        res.end(`${err.code}\n`);
      }
    });
  };
}
