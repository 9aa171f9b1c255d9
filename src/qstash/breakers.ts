/**
 * The two breakers that stop a client sending, shared by every request of one client: the server is unreachable
 * (network failures in a row, over a while), or nothing was decided for too long (only 429s, 5xx, network errors).
 * They hold the counts and say what they show; the retry policy decides what that means for a request, and trips them.
 */
import type { Clock } from './clock.js';
import { classifyStatus, type AttemptResult } from './retry-policy.js';

/** Why the client stopped sending, for every request from then on. */
export interface Trip {
  readonly cause: 'unreachable' | 'rate-limited';
  readonly reason: string;
}

export interface BreakerLimits {
  /** Network failures in a row (no HTTP answer in between), spread over at least `ms`. */
  readonly unreachableAfter: { readonly failures: number; readonly ms: number };
  /** No deciding answer (2xx, 404, another 4xx) for this long. */
  readonly noProgressMs: number;
}

/** What the breakers show after an attempt has been recorded. */
export interface BreakerState {
  /** Already tripped, by this request or another one. */
  readonly tripped?: Trip;
  /** The network failures in a row, this one included, reached the unreachable limit: how many, over how long. */
  readonly unreachable?: { readonly failures: number; readonly ms: number };
  /** No request got a deciding answer for at least noProgressMs: for how long. */
  readonly stalledMs?: number;
}

/** Twice the requests in flight (at least 4) over 10 s: see ClientOptions.unreachableAfter. */
export function defaultUnreachableAfter(maxInFlight: number | undefined): BreakerLimits['unreachableAfter'] {
  return { failures: Math.max(4, 2 * Math.min(maxInFlight ?? 2, 50)), ms: 10_000 };
}

export class Breakers {
  private readonly clock: Clock;
  private readonly limits: BreakerLimits;
  private networkFailures = 0;
  private failingSince = 0;
  /** When a request last got a deciding answer (or the client started). */
  private lastProgress: number;
  private stoppedBy: Trip | undefined;

  constructor(clock: Clock, limits: BreakerLimits) {
    this.clock = clock;
    this.limits = limits;
    this.lastProgress = clock.now();
  }

  get tripped(): Trip | undefined {
    return this.stoppedBy;
  }

  /** Counts an attempt. A refused proxy and a request abandoned on cancellation say nothing about the server. */
  record(result: AttemptResult): void {
    const now = this.clock.now();
    if (result.kind === 'response') {
      this.networkFailures = 0;
      const answer = classifyStatus(result.status);
      if (answer !== 'rate-limited' && answer !== 'server-error') this.lastProgress = now;
    } else if (result.kind === 'network' && result.proxy !== 'refused') {
      if (this.networkFailures === 0) this.failingSince = now;
      this.networkFailures += 1;
    }
  }

  state(): BreakerState {
    const now = this.clock.now();
    const failingMs = now - this.failingSince;
    const { failures, ms } = this.limits.unreachableAfter;
    const unreachable = this.networkFailures > 0 && this.networkFailures >= failures && failingMs >= ms;
    const stalledMs = now - this.lastProgress;
    return {
      ...(this.stoppedBy && { tripped: this.stoppedBy }),
      ...(unreachable && { unreachable: { failures: this.networkFailures, ms: failingMs } }),
      ...(stalledMs >= this.limits.noProgressMs && { stalledMs }),
    };
  }

  /** Stops the client sending. The first trip stays. */
  trip(trip: Trip): void {
    this.stoppedBy ??= trip;
  }
}
