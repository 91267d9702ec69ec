import { IPoll, Poll } from '@lumino/polling';

/** Shortest refresh interval the views accept, in seconds (faster only loads servers). */
export const MIN_INTERVAL_S = 1;

/** Default ceiling of the error backoff, in seconds. */
export const DEFAULT_MAX_BACKOFF_S = 120;

/**
 * The poll frequency for a refresh interval from the settings.
 *
 * @param seconds - seconds between refreshes; 0 (or less, or not a number) refreshes only
 *   on demand (the view's Refresh button, "MLP: Refresh")
 * @param maxBackoffSeconds - while requests fail the interval grows (lumino's exponential
 *   backoff) up to this many seconds, never below the interval itself
 * @returns lumino's frequency: milliseconds, `backoff: true` unless manual
 */
export function refreshFrequency(
  seconds: number,
  maxBackoffSeconds = DEFAULT_MAX_BACKOFF_S
): IPoll.Frequency {
  if (!Number.isFinite(seconds) || seconds <= 0) {
    return { interval: Poll.NEVER, backoff: false, max: Poll.NEVER };
  }
  const interval = Math.max(MIN_INTERVAL_S, seconds) * 1000;
  const max = Math.max(interval, maxBackoffSeconds * 1000);
  return { interval, backoff: true, max };
}

/**
 * Options of {@link createRefreshPoll}.
 */
export interface IRefreshPollOptions {
  /** Name of the poll (shows in lumino's debugging). */
  name: string;
  /** Loads the data; a rejection makes the poll back off. */
  factory: () => Promise<void>;
  /** Seconds between refreshes (0: on demand only). */
  interval: number;
  /** Ceiling of the backoff in seconds. */
  maxBackoff?: number;
  /**
   * Whether the view is on screen; the poll stands by while it is not, and while the
   * browser tab is hidden.
   */
  isVisible: () => boolean;
}

/**
 * A stopped poll for a view: start it when the view is attached, stop it when detached.
 *
 * The poll stands by (calls nothing) while the view is hidden or the browser tab is in
 * the background, and backs off exponentially while requests fail.
 */
export function createRefreshPoll(options: IRefreshPollOptions): Poll {
  const frequency = refreshFrequency(options.interval, options.maxBackoff);
  const poll = new Poll({
    auto: false,
    factory: options.factory,
    frequency,
    name: options.name,
    // 'when-hidden' is lumino's check of document.visibilityState.
    standby: () => !options.isVisible() || 'when-hidden'
  });
  // The constructor raises `max` to lumino's default ceiling (30 s); the setter keeps ours.
  poll.frequency = frequency;
  return poll;
}
