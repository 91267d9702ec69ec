import { Poll } from '@lumino/polling';

import { createRefreshPoll, refreshFrequency } from '../ui/poll';

describe('refreshFrequency', () => {
  it('turns seconds into milliseconds with backoff', () => {
    expect(refreshFrequency(5)).toEqual({
      interval: 5000,
      backoff: true,
      max: 120000
    });
    expect(refreshFrequency(3, 30)).toEqual({
      interval: 3000,
      backoff: true,
      max: 30000
    });
  });

  it('never backs off below the interval itself', () => {
    expect(refreshFrequency(300, 60).max).toBe(300000);
  });

  it('clamps intervals below a second', () => {
    expect(refreshFrequency(0.1).interval).toBe(1000);
  });

  it('reads 0, negatives and non-numbers as "on demand only"', () => {
    for (const seconds of [0, -3, NaN]) {
      expect(refreshFrequency(seconds)).toEqual({
        interval: Poll.NEVER,
        backoff: false,
        max: Poll.NEVER
      });
    }
  });
});

describe('createRefreshPoll', () => {
  let poll: Poll | null = null;

  beforeEach(() => {
    jest.useFakeTimers();
  });

  afterEach(() => {
    poll?.dispose();
    poll = null;
    jest.useRealTimers();
  });

  /** Start a poll with a 1 s interval; returns the times (ms) the factory was called. */
  function start(options: {
    visible: () => boolean;
    fail?: () => boolean;
    maxBackoff?: number;
  }): number[] {
    const calls: number[] = [];
    const t0 = Date.now();
    poll = createRefreshPoll({
      name: 'test',
      interval: 1,
      maxBackoff: options.maxBackoff,
      isVisible: options.visible,
      factory: async () => {
        calls.push(Date.now() - t0);
        if (options.fail?.()) {
          throw new Error('down');
        }
      }
    });
    void poll.start();
    return calls;
  }

  it('does not run before it is started', async () => {
    const factory = jest.fn(async () => undefined);
    poll = createRefreshPoll({
      name: 'test',
      interval: 1,
      isVisible: () => true,
      factory
    });
    await jest.advanceTimersByTimeAsync(5000);
    expect(factory).not.toHaveBeenCalled();
  });

  it('loads at once when started, then every interval', async () => {
    const calls = start({ visible: () => true });
    await jest.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(3000);
    expect(calls).toHaveLength(4);
  });

  it('stands by while the view is hidden and resumes when shown', async () => {
    let visible = true;
    const calls = start({ visible: () => visible });
    await jest.advanceTimersByTimeAsync(1000);
    const before = calls.length;
    visible = false;
    await jest.advanceTimersByTimeAsync(10000);
    expect(calls).toHaveLength(before);
    visible = true;
    await jest.advanceTimersByTimeAsync(2000);
    expect(calls.length).toBeGreaterThan(before);
  });

  it('backs off while the factory fails, within the ceiling', async () => {
    const calls = start({
      visible: () => true,
      fail: () => true,
      maxBackoff: 8
    });
    await jest.advanceTimersByTimeAsync(60000);
    // Without backoff, 61 calls in 60 s; lumino's growth (up to 3x per failure,
    // ceiling 8 s) leaves far fewer.
    expect(calls.length).toBeLessThan(20);
    // The first retry follows the immediate start tick: lumino draws it between 0 and
    // the interval; every later one waits at least the interval.
    const gaps = calls.slice(2).map((t, i) => t - calls[i + 1]);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(1000);
      expect(gap).toBeLessThanOrEqual(8000 + 50);
    }
    expect(Math.max(...gaps)).toBeGreaterThan(1000);
  });

  it('returns to the interval after a success', async () => {
    let failing = true;
    const calls = start({
      visible: () => true,
      fail: () => failing,
      maxBackoff: 8
    });
    await jest.advanceTimersByTimeAsync(30000);
    failing = false;
    // The next (backed-off) tick succeeds; after it the poll runs every second again.
    await jest.advanceTimersByTimeAsync(9000);
    const n = calls.length;
    await jest.advanceTimersByTimeAsync(3000);
    expect(calls.length - n).toBe(3);
  });

  it('refreshes at once on demand, even between ticks', async () => {
    const calls = start({ visible: () => true });
    await jest.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(1);
    await poll!.refresh();
    await jest.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(2);
  });
});
