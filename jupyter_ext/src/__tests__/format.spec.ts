import {
  formatDuration,
  formatGiB,
  formatPercent,
  matchesFilter,
  statusLabel
} from '../ui/format';

describe('formatDuration', () => {
  it('shows seconds with one decimal below a minute', () => {
    expect(formatDuration(0)).toBe('0.0 s');
    expect(formatDuration(12.34)).toBe('12.3 s');
    expect(formatDuration(59.94)).toBe('59.9 s');
  });

  it('shows minutes and zero-padded seconds from a minute on', () => {
    expect(formatDuration(60)).toBe('1 min 00 s');
    expect(formatDuration(245)).toBe('4 min 05 s');
    expect(formatDuration(3725.4)).toBe('62 min 05 s');
  });

  it('is empty for unknown durations', () => {
    expect(formatDuration(null)).toBe('');
    expect(formatDuration(undefined)).toBe('');
    expect(formatDuration(NaN)).toBe('');
    expect(formatDuration(Infinity)).toBe('');
  });
});

describe('formatGiB', () => {
  it('shows GiB with one decimal', () => {
    expect(formatGiB(2 * 1024 ** 3)).toBe('2.0 GiB');
    expect(formatGiB(1.25 * 1024 ** 3)).toBe('1.3 GiB');
  });

  it('reads a missing limit as "no limit"', () => {
    expect(formatGiB(null)).toBe('no limit');
    expect(formatGiB(undefined)).toBe('no limit');
  });
});

describe('formatPercent', () => {
  it('is a share with one decimal, empty when there is no whole', () => {
    expect(formatPercent(1, 3)).toBe('33.3%');
    expect(formatPercent(0, 10)).toBe('0.0%');
    expect(formatPercent(5, 0)).toBe('');
  });
});

describe('statusLabel', () => {
  it('reads underscores as spaces', () => {
    expect(statusLabel('timed_out')).toBe('timed out');
    expect(statusLabel('running')).toBe('running');
  });
});

describe('matchesFilter', () => {
  it('matches case-insensitively, ignoring blanks around the needle', () => {
    expect(matchesFilter('Amount', '  amo ')).toBe(true);
    expect(matchesFilter('amount', 'AMOUNT')).toBe(true);
    expect(matchesFilter('amount', 'price')).toBe(false);
  });

  it('matches everything with an empty needle', () => {
    expect(matchesFilter('anything', '')).toBe(true);
    expect(matchesFilter('anything', '   ')).toBe(true);
  });
});
