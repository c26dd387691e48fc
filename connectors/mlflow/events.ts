/** What the MLflow source tells the rest of sealgate: a version changed, and how. */

export type VersionChange =
  | { kind: "created" }
  | { kind: "deleted" }
  | { kind: "tag"; key: string; before: string | null; after: string | null }
  | { kind: "alias"; alias: string; before: boolean; after: boolean }
  | {
      kind: "field";
      field: "status" | "description" | "source";
      before: string | null;
      after: string | null;
    };

export interface VersionChangedEvent {
  model: string;
  /** null when the source named only the model (MLflow's alias-deleted webhook carries no version). */
  version: string | null;
  origin: "reconcile" | "webhook";
  changes: VersionChange[];
  /** When sealgate saw the change (ISO 8601); never a timestamp taken from the registry. */
  observedAt: string;
}
