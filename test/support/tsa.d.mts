export interface RunningTsa {
  readonly url: string;
  readonly requests: number;
  stop(): Promise<void>;
}

export function startTsa(o: { key: string; cert: string; port?: number }): Promise<RunningTsa>;
