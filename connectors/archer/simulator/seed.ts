/*
 * The metadata the simulated Archer instance starts with: the application the default mapping
 * targets, a second level (so level selection matters), unrelated applications enough to need
 * several metadata pages, and field ids in Archer's style (large, not contiguous per level).
 */

export interface SimField {
  Id: number;
  Name: string;
  Alias: string;
  Type: number;
  IsRequired: boolean;
  RelatedValuesListId: number | null;
  LevelId: number;
}

export interface SimLevel {
  Id: number;
  Name: string;
  Alias: string;
  ModuleId: number;
}

export interface SimMetadata {
  applications: { Id: number; Name: string }[];
  levels: SimLevel[];
  fields: SimField[];
  valuesLists: Map<number, { Id: number; Name: string }[]>;
}

const field = (
  Id: number,
  Name: string,
  Type: number,
  LevelId: number,
  extra: Partial<SimField> = {},
): SimField => ({
  Id,
  Name,
  Alias: Name.replace(/[^A-Za-z0-9]+/g, "_"),
  Type,
  IsRequired: false,
  RelatedValuesListId: null,
  LevelId,
  ...extra,
});

export const PROMOTIONS = { app: 434, level: 1187, comments: 1188 } as const;

export function seedMetadata(fillerApplications = 120): SimMetadata {
  const L = PROMOTIONS.level;
  return {
    applications: [
      { Id: 75, Name: "Policies" },
      { Id: 76, Name: "Risk Register" },
      ...Array.from({ length: fillerApplications }, (_, i) => ({
        Id: 1000 + i,
        Name: `Business Process ${i + 1}`,
      })),
      { Id: PROMOTIONS.app, Name: "Model Promotions" },
    ],
    levels: [
      { Id: 101, Name: "Risk", Alias: "Risk_Register", ModuleId: 76 },
      { Id: L, Name: "Promotion Record", Alias: "Promotion_Record", ModuleId: PROMOTIONS.app },
      { Id: PROMOTIONS.comments, Name: "Review Comment", Alias: "Review_Comment", ModuleId: PROMOTIONS.app },
    ],
    fields: [
      field(21650, "Tracking ID", 6, L),
      field(21651, "Title", 1, L, { IsRequired: true }),
      field(21652, "Record Digest", 1, L),
      field(21653, "Model Name", 1, L),
      field(21654, "Model Version", 2, L),
      field(21655, "Decision", 4, L, { RelatedValuesListId: 5120 }),
      field(21656, "Materiality Tier", 1, L),
      field(21657, "Sealed At", 3, L),
      field(21658, "Model Registry", 7, L),
      field(21659, "Evidence Files", 11, L),
      field(21660, "Record Status", 20, L),
      field(21661, "Policy Version", 1, L),
      field(21700, "Comment", 1, PROMOTIONS.comments, { IsRequired: true }),
      field(21701, "Comment Files", 11, PROMOTIONS.comments),
      field(3010, "Risk Name", 1, 101, { IsRequired: true }),
    ],
    valuesLists: new Map([
      [
        5120,
        [
          { Id: 77001, Name: "Approved" },
          { Id: 77002, Name: "Rejected" },
          { Id: 77003, Name: "Changes Requested" },
        ],
      ],
    ]),
  };
}
