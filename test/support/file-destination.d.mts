import type {
  Delivery,
  Destination,
  EvidenceFile,
  RemoteFile,
  RemoteRef,
} from "../../src/delivery/destination/destination.js";

export interface FileFaults {
  failBefore: number;
  failAfter: number;
  delayMs: number;
  random: () => number;
}

export interface FileRecord {
  id: string;
  correlation: string;
  fields: Record<string, unknown>;
  finished: boolean;
  files: { name: string; size: number; sha256: string }[];
}

export declare class FileDestination implements Destination {
  readonly kind: string;
  readonly name: string;
  readonly dir: string;
  faults: FileFaults;
  calls: Record<"find" | "create" | "listFiles" | "upload" | "finish", number>;
  constructor(name: string, dir: string, faults?: Partial<FileFaults>);
  prepare(): Promise<void>;
  find(correlation: string): Promise<RemoteRef | null>;
  create(delivery: Delivery): Promise<RemoteRef>;
  listFiles(ref: RemoteRef): Promise<RemoteFile[]>;
  upload(ref: RemoteRef, file: EvidenceFile): Promise<void>;
  finish(ref: RemoteRef): Promise<void>;
  checkMapping(): Promise<never[]>;
  close(): Promise<void>;
  records(): Promise<FileRecord[]>;
}
