/**
 * The back-off schedule of a sync chunk that failed for an infrastructure reason (a tenant database
 * restarting or failing over, a network blip): issue 12 item 4. Service Bus redelivers an abandoned message
 * at once, so `QUEUE_MAX_DELIVERY_COUNT` deliveries pass in seconds; instead the processor completes the
 * failed message and schedules a copy (`attempt` + 1) for later, with these delays, until the delays
 * together cover `spanSeconds`. Pure: no clock, no randomness (the property tests in
 * test/unit/backoff.property.test.ts rely on that).
 */
export interface RetryPolicy {
  /** Delay after the first failed attempt, in seconds (> 0); each further delay doubles. */
  baseSeconds: number;
  /** No single delay is longer than this (≥ baseSeconds). */
  maxDelaySeconds: number;
  /** The retries stop once their delays add up to at least this: the outage the processor outlasts. */
  spanSeconds: number;
}

/** The delay before attempt `attempt + 1` when attempt `attempt` (1-based) failed: base·2^(attempt−1), capped. */
export function backoffDelaySeconds(policy: RetryPolicy, attempt: number): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 52);
  return Math.min(policy.maxDelaySeconds, policy.baseSeconds * 2 ** exponent);
}

/**
 * Every delay of the schedule, in order: delays are added until their sum reaches `spanSeconds`, so the
 * sum is at least the span and exceeds it by less than one delay. Length = attempts − 1.
 */
export function backoffSchedule(policy: RetryPolicy): number[] {
  const delays: number[] = [];
  let total = 0;
  while (total < policy.spanSeconds) {
    const delay = backoffDelaySeconds(policy, delays.length + 1);
    delays.push(delay);
    total += delay;
  }
  return delays;
}

/**
 * After attempt `attempt` (1-based) failed: the delay before the next attempt, or undefined when the
 * schedule is used up (give up: the events become FAILED).
 */
export function nextRetryDelaySeconds(policy: RetryPolicy, attempt: number): number | undefined {
  let elapsed = 0;
  for (let done = 1; done < attempt; done++) {
    elapsed += backoffDelaySeconds(policy, done);
    if (elapsed >= policy.spanSeconds) return undefined;
  }
  return elapsed >= policy.spanSeconds ? undefined : backoffDelaySeconds(policy, attempt);
}
