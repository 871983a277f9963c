/**
 * Market time. It runs `speed` times faster than the wall clock (0 freezes it), so a replay of
 * hourly bars can play an hour a second; the wall clock stays the time of requests and events.
 */
export class SimClock {
  #realStart: number;
  #simStart: number;
  #speed: number;
  readonly #wall: () => number;

  constructor(simStart: number, speed: number, wall: () => number = Date.now) {
    this.#wall = wall;
    this.#realStart = wall();
    this.#simStart = simStart;
    this.#speed = speed;
  }

  get speed(): number {
    return this.#speed;
  }

  now(): number {
    return Math.floor(this.#simStart + (this.#wall() - this.#realStart) * this.#speed);
  }

  setSpeed(speed: number): void {
    this.#simStart = this.now();
    this.#realStart = this.#wall();
    this.#speed = speed;
  }

  /** Moves market time forward by `ms` at once. */
  advance(ms: number): void {
    this.#simStart = this.now() + ms;
    this.#realStart = this.#wall();
  }
}
