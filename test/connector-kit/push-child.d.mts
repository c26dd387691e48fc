/** The crash child's spec file, written by kit-crash.ts. */
export interface PushChildSpec {
  kind: string;
  /** Absolute path of a built module whose `default` export is the ConnectorModule. */
  modulePath?: string;
  name: string;
  /** The destination's config section (secrets as ${ENV} references; the env is inherited). */
  config: Record<string, unknown>;
  storeRoot: string;
  key: string;
  cert: string;
  queue: { concurrency: number; perMinute: number };
  secretPaths: string[];
}
