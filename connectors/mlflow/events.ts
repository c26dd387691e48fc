/** The MLflow source speaks the neutral change events of src/source/registry-source.ts. */
export type { VersionChange, VersionChangedEvent } from "../../src/source/registry-source.js";
