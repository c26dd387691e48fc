/** MLflow tags through which registry users see the governance state without sealgate. */
export const TAGS = {
  /** Digest of the current review package (what approvers sign). */
  package: "sealgate.package",
  packagePdf: "sealgate.package_pdf",
  /** pending_review, changes_requested, approved, rejected, expired, pre_discipline. */
  state: "sealgate.state",
  tier: "sealgate.tier",
  /** Digest of the sealed record: the registry points at the event, not the other way round. */
  event: "sealgate.event",
} as const;
