import { ReactWidget } from '@jupyterlab/ui-components';
import { PromiseDelegate } from '@lumino/coreutils';
import { Message } from '@lumino/messaging';
import { Poll } from '@lumino/polling';
import * as React from 'react';

import { APIError, errorMessage } from './errors';
import { createRefreshPoll, refreshFrequency } from './poll';

/**
 * Something the "MLP: Refresh" command can refresh.
 */
export interface IRefreshable {
  refresh(): Promise<void>;
}

/**
 * Whether a widget (or anything) has a `refresh()` method.
 */
export function isRefreshable<T>(value: T): value is T & IRefreshable {
  return (
    !!value && typeof (value as { refresh?: unknown }).refresh === 'function'
  );
}

/**
 * The base of every MLP lab view: a `ReactWidget` whose data comes from a `Poll`.
 *
 * - `load()` fetches the data; the poll calls it every `refreshInterval` seconds while
 *   the view is visible and the browser tab is in front, backing off while it fails;
 * - `renderView()` returns the React tree; React reconciles it on each refresh, so the
 *   DOM, the focus, the scroll position and half-typed form fields survive refreshes
 *   (give list rows stable `key`s);
 * - `act()` runs a user action (a POST), shows its error, then refreshes.
 *
 * See "Adding a view" in jupyter_ext/README.md.
 */
export abstract class LabView<T> extends ReactWidget implements IRefreshable {
  constructor(options: LabView.IOptions) {
    super();
    this.addClass('mlp-view');
    this._maxBackoff = options.maxBackoff;
    this._poll = createRefreshPoll({
      name: `mlp-jupyter-ext:${options.name}`,
      factory: () => this._load(),
      interval: options.refreshInterval ?? LabView.DEFAULT_INTERVAL_S,
      maxBackoff: options.maxBackoff,
      isVisible: () => this.isVisible
    });
  }

  /**
   * The last data loaded (null before the first success).
   */
  get data(): T | null {
    return this._data;
  }

  /**
   * Why the last load failed (null when it succeeded).
   */
  get loadError(): APIError | null {
    return this._loadError;
  }

  /**
   * The message of the last failed action ('' when the last action succeeded).
   */
  get actionError(): string {
    return this._actionError;
  }

  /**
   * Whether a load is in flight.
   */
  get loading(): boolean {
    return this._loading;
  }

  /**
   * The poll behind the view (read-only use: its state, for tests and debugging).
   */
  get poll(): Poll {
    return this._poll;
  }

  /**
   * Seconds between refreshes (0: only on demand); set from the settings.
   */
  set refreshInterval(seconds: number) {
    this._poll.frequency = refreshFrequency(seconds, this._maxBackoff);
  }

  /**
   * Load now; resolves when the load finished (failed loads too: see `loadError`).
   * A view that is not on screen only marks itself stale and loads when shown.
   */
  refresh(): Promise<void> {
    if (this.isDisposed) {
      return Promise.resolve();
    }
    if (!this.isVisible) {
      this._stale = true;
      return Promise.resolve();
    }
    if (!this._next) {
      this._next = new PromiseDelegate<void>();
    }
    const next = this._next.promise;
    void this._poll.refresh();
    return next;
  }

  /**
   * Run a user action: clear the previous action's error, run it, keep its error for
   * display, and refresh (the action changed what the view shows).
   *
   * @param what - what the action does, for the error message ("Could not ...")
   * @param action - the request(s)
   * @returns whether the action succeeded
   */
  protected async act(
    what: string,
    action: () => Promise<unknown>
  ): Promise<boolean> {
    let ok = true;
    try {
      await action();
      this._actionError = '';
    } catch (reason) {
      this._actionError = `Could not ${what}: ${errorMessage(reason)}`;
      ok = false;
    }
    this.update();
    await this.refresh();
    return ok;
  }

  /**
   * Show an action error without running a request (e.g. a form that fails its own
   * checks); '' clears it.
   */
  protected setActionError(message: string): void {
    this._actionError = message;
    this.update();
  }

  /**
   * Fetch the view's data. Throw (an `APIError`) to show the error and back off.
   */
  protected abstract load(): Promise<T>;

  /**
   * The view's React tree from `this.data`, `this.loadError`, `this.actionError`.
   */
  protected abstract renderView(): React.ReactElement;

  /**
   * Called after each successful load, before rendering (e.g. to notify about changes).
   */
  protected onLoaded(data: T): void {
    // Nothing by default.
  }

  render(): React.ReactElement {
    return this.renderView();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    void this._poll.start();
  }

  protected onBeforeDetach(msg: Message): void {
    void this._poll.stop();
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Shown again after standing by: show fresh data now, not at the next tick.
    if (this._stale || this._poll.state.phase === 'standby') {
      this._stale = false;
      void this.refresh();
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._poll.dispose();
    this._next?.resolve();
    this._next = null;
    super.dispose();
  }

  private async _load(): Promise<void> {
    this._loading = true;
    const next = this._next;
    this._next = null;
    try {
      const data = await this.load();
      this._data = data;
      this._loadError = null;
      this.onLoaded(data);
    } catch (reason) {
      this._loadError =
        reason instanceof APIError
          ? reason
          : new APIError(errorMessage(reason), 0, 'invalid-response');
      // Rejecting makes the poll back off.
      throw this._loadError;
    } finally {
      this._loading = false;
      if (!this.isDisposed) {
        this.update();
      }
      next?.resolve();
    }
  }

  private _poll: Poll;
  private _maxBackoff: number | undefined;
  private _data: T | null = null;
  private _loadError: APIError | null = null;
  private _actionError = '';
  private _loading = false;
  private _stale = false;
  private _next: PromiseDelegate<void> | null = null;
}

/**
 * The LabView statics.
 */
export namespace LabView {
  /** Refresh interval (seconds) when neither options nor settings give one. */
  export const DEFAULT_INTERVAL_S = 5;

  /**
   * Options of a view.
   */
  export interface IOptions {
    /** Short name of the view (names its poll). */
    name: string;
    /** Seconds between refreshes (0: on demand only); settings override it. */
    refreshInterval?: number;
    /** Ceiling of the error backoff in seconds. */
    maxBackoff?: number;
  }
}
