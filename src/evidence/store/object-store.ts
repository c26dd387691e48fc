/*
 * The old name of EvidenceStore, kept only for files not yet retyped (governance/review,
 * approvals, cycle, evidence/verify); delete it once they import EvidenceStore.
 */
export type { EvidenceStore as ObjectStore } from "./evidence-store.js";
