import type { z } from "zod";

export declare const TEST_TARGET: z.ZodType<{ folder: string }>;
export declare const TEST_MAPPING: Record<string, unknown>;
