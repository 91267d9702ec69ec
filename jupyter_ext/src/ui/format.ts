/**
 * Pure formatting helpers shared by the lab views (no DOM, no JupyterLab imports, so
 * jest tests them directly).
 */

/**
 * Seconds as "12.3 s" or "4 min 05 s"; '' for null and non-finite values.
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '';
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds - minutes * 60);
  return `${minutes} min ${String(rest).padStart(2, '0')} s`;
}

/**
 * Bytes as GiB with one decimal; `null`/`undefined` read as "no limit".
 */
export function formatGiB(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined
    ? 'no limit'
    : `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/**
 * `part` as a percentage of `whole` with one decimal; '' when `whole` is 0.
 */
export function formatPercent(part: number, whole: number): string {
  return whole ? `${((100 * part) / whole).toFixed(1)}%` : '';
}

/**
 * A status word as people read it: "timed_out" becomes "timed out".
 */
export function statusLabel(status: string): string {
  return status.replace(/_/g, ' ');
}

/**
 * Whether `text` contains `needle`, ignoring case and surrounding blanks of the needle;
 * an empty needle matches everything (the filter boxes of the views).
 */
export function matchesFilter(text: string, needle: string): boolean {
  const wanted = needle.trim().toLowerCase();
  return !wanted || text.toLowerCase().includes(wanted);
}
