import type { Policy } from "./schema.js";

const BAND_EPSILON = 1e-9;

/*
 * Materiality routing: the same six-field record for every promotion, but the path to sealing
 * depends on what changed. Every rule that fires adds a reason; the tier is the one with the
 * longest approval chain among the fired rules (the default tier when none fires).
 */

export interface ModelFacts {
  /** Input signature feature names (MLmodel), sorted or not. */
  features: string[];
  /** MLmodel flavors, e.g. sklearn, python_function. */
  flavors: string[];
  metrics: Record<string, number>;
  tags: Record<string, string>;
  deploymentContext: string | null;
  featurePipelineVersion: string | null;
}

export interface RoutingInput {
  candidate: ModelFacts & { datasetContentAddressed: boolean };
  /** The incumbent (the version holding the incumbent alias), if there is one. */
  incumbent: (ModelFacts & { deploymentContexts: string[] }) | null;
}

export interface Routing {
  tier: string;
  chain: string[];
  reasons: string[];
}

const setDiff = (a: string[], b: string[]) => a.filter((x) => !b.includes(x));

/** Reasons each rule finds, with the tier it asks for. */
function fire(policy: Policy, input: RoutingInput): { tier: string; reason: string }[] {
  const { candidate: c, incumbent: i } = input;
  const out: { tier: string; reason: string }[] = [];
  for (const rule of policy.rules) {
    const add = (reason: string) => out.push({ tier: rule.tier, reason });
    switch (rule.kind) {
      case "feature-set-change": {
        if (!i) break;
        const added = setDiff(c.features, i.features);
        const removed = setDiff(i.features, c.features);
        if (added.length || removed.length) {
          add(
            `feature set changed:${added.length ? ` +${added.join(", +")}` : ""}${removed.length ? ` -${removed.join(", -")}` : ""}`,
          );
        }
        break;
      }
      case "flavor-change": {
        if (!i) break;
        const a = [...c.flavors].sort().join(", ");
        const b = [...i.flavors].sort().join(", ");
        if (a !== b) add(`model class changed: flavors ${b || "(none)"} -> ${a || "(none)"}`);
        break;
      }
      case "metric-band": {
        const now = c.metrics[rule.metric];
        const before = i?.metrics[rule.metric];
        if (now === undefined || before === undefined) {
          if (i)
            add(
              `metric ${rule.metric} missing on ${now === undefined ? "the candidate" : "the incumbent"}: cannot check its band`,
            );
          break;
        }
        // Float subtraction (0.85 - 0.87 = -0.020000000000000018): a delta at the edge is inside.
        const delta = now - before;
        if (delta < -rule.maxDrop - BAND_EPSILON)
          add(`${rule.metric} fell by ${(-delta).toPrecision(3)} (band allows ${rule.maxDrop})`);
        if (rule.maxRise !== undefined && delta > rule.maxRise + BAND_EPSILON) {
          add(
            `${rule.metric} rose by ${delta.toPrecision(3)} (band allows ${rule.maxRise}): check for leakage`,
          );
        }
        break;
      }
      case "population-shift": {
        const raw = rule.from === "metric" ? c.metrics[rule.name] : Number(c.tags[rule.name]);
        if (raw !== undefined && Number.isFinite(raw) && raw > rule.threshold) {
          add(`population shift ${rule.name} = ${raw} above ${rule.threshold}`);
        }
        break;
      }
      case "new-deployment-context":
        if (c.deploymentContext && !(i?.deploymentContexts ?? []).includes(c.deploymentContext)) {
          add(`new deployment context: ${c.deploymentContext}`);
        }
        break;
      case "dataset-not-content-addressed":
        if (!c.datasetContentAddressed) add("evaluation dataset is not content-addressed");
        break;
      case "feature-pipeline-change":
        if (i && c.featurePipelineVersion !== i.featurePipelineVersion) {
          add(
            `feature pipeline changed: ${i.featurePipelineVersion ?? "(none)"} -> ${c.featurePipelineVersion ?? "(none)"}`,
          );
        }
        break;
    }
  }
  return out;
}

export function route(policy: Policy, input: RoutingInput): Routing {
  const fired = fire(policy, input);
  const chainOf = (t: string) => policy.tiers[t]!.chain;
  const tier = fired.reduce(
    (best, f) => (chainOf(f.tier).length > chainOf(best).length ? f.tier : best),
    policy.defaultTier,
  );
  return { tier, chain: [...chainOf(tier)], reasons: fired.map((f) => f.reason) };
}
