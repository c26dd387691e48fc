import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { MlflowError } from "./errors.js";

/*
 * The parts of an MLmodel file that decide materiality: flavors (the model class) and the input
 * signature (the feature contract). MLmodel comes from the registry, so it is untrusted YAML.
 */

const MlModelFile = z.object({
  flavors: z.record(z.string(), z.unknown()).default({}),
  signature: z.object({ inputs: z.string().nullable().optional() }).nullable().optional(),
});

export interface MlModelFacts {
  flavors: string[];
  /** Input feature names from the signature; empty when the model has none. */
  features: string[];
}

export function parseMlModel(text: string, where: string): MlModelFacts {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (cause) {
    throw new MlflowError("MLFLOW_RESPONSE_INVALID", `${where}: MLmodel is not valid YAML`, { cause });
  }
  const file = MlModelFile.safeParse(raw);
  if (!file.success)
    throw new MlflowError("MLFLOW_RESPONSE_INVALID", `${where}: MLmodel has an unexpected shape`);
  let features: string[] = [];
  const inputs = file.data.signature?.inputs;
  if (inputs) {
    try {
      const cols = JSON.parse(inputs) as { name?: unknown }[];
      features = cols.map((c) => (typeof c.name === "string" ? c.name : "")).filter(Boolean);
    } catch (cause) {
      throw new MlflowError("MLFLOW_RESPONSE_INVALID", `${where}: MLmodel signature inputs are not JSON`, {
        cause,
      });
    }
  }
  return { flavors: Object.keys(file.data.flavors).sort(), features: features.sort() };
}
