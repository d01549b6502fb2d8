export interface RoundRobinProxy {
  url: string;
  /** Requests sent to each target so far. */
  served: number[];
  /** Requests by method and request body bytes that passed. */
  stats: { requests: Record<string, number>; bytesIn: number };
  setTargets(urls: string[]): void;
  close(): Promise<void>;
}
export function startRoundRobinProxy(targets: string[]): Promise<RoundRobinProxy>;
