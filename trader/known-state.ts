/**
 * Stream-first state: the user data stream says what changes on the account (an order event
 * brings a look at once, a reconnect a full look), so what the trader read stays known until the
 * slow REST safety pass reads it again.
 */

/** The REST safety pass (positions, open triggers, balance) when the stream is the source of state. */
export const SAFETY_PASS_MS = 10 * 60_000;

/** A balance or positions read this recently are known: an entry's risk checks use them without asking again. */
export const KNOWN_STATE_MS = Math.round(SAFETY_PASS_MS * 1.2);

/** ±10 %: accounts started together do not pass together. */
export const jittered = (ms: number) => Math.round(ms * (0.9 + Math.random() * 0.2));
