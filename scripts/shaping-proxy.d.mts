export interface DirectionSpec {
  /** Throughput in kilobits per second; 0 or undefined: unlimited. */
  kbps?: number;
  /** One-way delay added to every byte, in ms. */
  latencyMs?: number;
  burstBytes?: number;
  queueBytes?: number;
}
export interface LinkSpec {
  /** Browser → server. */
  up?: DirectionSpec;
  /** Server → browser. */
  down?: DirectionSpec;
}
export interface ShapingProxy {
  url: string;
  setLink(next: LinkSpec): void;
  stats(): { upBytes: number; downBytes: number; connections: number };
  close(): Promise<void>;
}
export function startShapingProxy(target: string, link?: LinkSpec): Promise<ShapingProxy>;
