import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { Widget } from '@lumino/widgets';

import { requestAPI } from './ui/request';
import { IMLPPanel } from './tokens';

/**
 * A schedule, as the MLP service returns it (`Schedule.to_dict`).
 */
export interface ISchedule {
  id: string;
  owner: string;
  name: string;
  target: string;
  cron: string | null;
  interval_seconds: number | null;
  timezone: string;
  paused: boolean;
  next_fire: string | null;
}

/**
 * A run (`Run.to_dict`); pipeline runs fetched alone also carry nodes and edges.
 */
export interface IRun {
  id: string;
  owner: string;
  kind: string;
  node: string | null;
  target: string;
  status: string;
  reason: string | null;
  error: string | null;
  started: string | null;
  finished: string | null;
  duration: number | null;
  output_path: string | null;
  progress: { done: number | null; total: number | null };
  schedule_id: string | null;
  nodes?: IRun[];
  edges?: [string, string][];
}

const REFRESH_MS = 3000;
/** While hidden, look for failed runs only every this many ticks. */
const HIDDEN_EVERY = 5;
const ACTIVE = new Set(['queued', 'running']);
const FINAL = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'skipped'
]);
const FAILED = new Set(['failed', 'timed_out']);

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text = ''
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text) {
    node.textContent = text;
  }
  return node;
}

function button(
  label: string,
  action: string,
  onClick: () => void,
  kind = ''
): HTMLButtonElement {
  const node = el('button', `jp-Button jp-mod-styled ${kind}`.trim(), label);
  node.type = 'button';
  node.dataset.mlpAction = action;
  node.addEventListener('click', event => {
    // Buttons sit in clickable rows: the row must not open the run too.
    event.stopPropagation();
    onClick();
  });
  return node;
}

/**
 * Seconds as "12.3 s" or "4 min 05 s".
 */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !isFinite(seconds)) {
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
 * A run's duration: recorded when finished, elapsed so far while running.
 */
export function runDuration(run: IRun, now = Date.now()): number | null {
  if (run.duration !== null && run.duration !== undefined) {
    return run.duration;
  }
  if (run.started && !run.finished) {
    return Math.max(0, (now - Date.parse(run.started)) / 1000);
  }
  return null;
}

/**
 * "cell i of n" while a run executes, else ''.
 */
export function progressText(run: IRun): string {
  const { done, total } = run.progress ?? { done: null, total: null };
  if (run.status !== 'running' || !total) {
    return '';
  }
  return `cell ${Math.min((done ?? 0) + 1, total)} of ${total}`;
}

/**
 * How a node state reads in the DAG view.
 */
function stateLabel(status: string): string {
  return status === 'succeeded' ? 'ran' : status.replace('_', ' ');
}

/**
 * Topological layers of a DAG: a node sits one layer right of its deepest upstream.
 *
 * @param names - the nodes
 * @param edges - `[upstream, downstream]` pairs
 * @returns the layers, left to right, each sorted by name
 */
export function layers(names: string[], edges: [string, string][]): string[][] {
  const needs = new Map<string, string[]>(names.map(n => [n, []]));
  for (const [up, down] of edges) {
    if (needs.has(up) && needs.has(down)) {
      needs.get(down)!.push(up);
    }
  }
  const depth = new Map<string, number>();
  const visit = (name: string, seen: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) {
      return known;
    }
    if (seen.has(name)) {
      return 0; // validation refuses cycles; never loop on one anyway
    }
    seen.add(name);
    const ups = needs.get(name) ?? [];
    const d = ups.length ? 1 + Math.max(...ups.map(u => visit(u, seen))) : 0;
    depth.set(name, d);
    return d;
  };
  const result: string[][] = [];
  for (const name of names) {
    const d = visit(name, new Set());
    (result[d] ??= []).push(name);
  }
  return result.filter(Boolean).map(layer => layer.sort());
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const NODE_W = 96;
const NODE_H = 34;
const GAP_X = 24;
const GAP_Y = 12;

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    node.setAttribute(key, String(value));
  }
  return node;
}

/**
 * A layered SVG of a pipeline run's nodes, coloured by state.
 *
 * @param run - a pipeline run with `nodes` and `edges`
 * @param open - called with a node run when its box is clicked
 */
export function renderDag(
  run: IRun,
  open: (node: IRun) => void
): HTMLDivElement {
  const box = el('div', 'mlp-dag');
  box.dataset.mlpDag = run.id;
  const nodes = run.nodes ?? [];
  if (nodes.length === 0) {
    box.textContent = ACTIVE.has(run.status)
      ? 'Waiting for the pipeline to start…'
      : 'No nodes ran.';
    return box;
  }
  const byName = new Map(nodes.map(n => [n.node ?? n.id, n]));
  const edges = run.edges ?? [];
  const cols = layers([...byName.keys()], edges);
  const rows = Math.max(...cols.map(c => c.length));
  const width = cols.length * (NODE_W + GAP_X) - GAP_X + 2;
  const height = rows * (NODE_H + GAP_Y) - GAP_Y + 2;
  const pos = new Map<string, { x: number; y: number }>();
  cols.forEach((col, i) =>
    col.forEach((name, j) => {
      // Centre short layers vertically.
      const offset = ((rows - col.length) * (NODE_H + GAP_Y)) / 2;
      pos.set(name, {
        x: 1 + i * (NODE_W + GAP_X),
        y: 1 + offset + j * (NODE_H + GAP_Y)
      });
    })
  );
  const root = svg('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    class: 'mlp-dag-svg'
  });
  for (const [up, down] of edges) {
    const a = pos.get(up);
    const b = pos.get(down);
    if (!a || !b) {
      continue;
    }
    const x1 = a.x + NODE_W;
    const y1 = a.y + NODE_H / 2;
    const x2 = b.x;
    const y2 = b.y + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    root.appendChild(
      svg('path', {
        d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
        class: 'mlp-dag-edge'
      })
    );
  }
  for (const [name, node] of byName) {
    const p = pos.get(name)!;
    const g = svg('g', {
      class: `mlp-dag-node mlp-status-${node.status}`,
      transform: `translate(${p.x},${p.y})`,
      'data-mlp-node': name,
      'data-status': node.status
    });
    const title = svg('title', {});
    title.textContent = [
      `${name}: ${stateLabel(node.status)}`,
      node.reason ?? '',
      node.error ?? ''
    ]
      .filter(Boolean)
      .join('\n');
    g.appendChild(title);
    g.appendChild(svg('rect', { width: NODE_W, height: NODE_H, rx: 4 }));
    const label = svg('text', { x: 6, y: 14, class: 'mlp-dag-name' });
    label.textContent = name.length > 14 ? `${name.slice(0, 13)}…` : name;
    g.appendChild(label);
    const state = svg('text', { x: 6, y: 28, class: 'mlp-dag-state' });
    state.textContent = progressText(node) || stateLabel(node.status);
    g.appendChild(state);
    if (node.output_path) {
      g.addEventListener('click', () => open(node));
    }
    root.appendChild(g);
  }
  box.appendChild(root);
  return box;
}

/**
 * The "Pipelines" section: the user's schedules (pause/resume, run now, delete), a form
 * for a new schedule, and the latest runs with live status, progress and duration. A click
 * on a run opens its output notebook; a pipeline run unfolds into a DAG of node states.
 */
export class PipelinesSection extends Widget {
  constructor(openPath: (path: string) => Promise<unknown>) {
    super();
    this._openPath = openPath;
    this.addClass('mlp-pipelines');

    this.node.appendChild(el('h4', 'mlp-pipelines-heading', 'Schedules'));
    this._form = this._buildForm();
    this.node.appendChild(this._form);
    this._error = el('div', 'mlp-error');
    this._error.hidden = true;
    this.node.appendChild(this._error);
    this._schedules = el('div', 'mlp-pipelines-list mlp-schedules');
    this.node.appendChild(this._schedules);
    this.node.appendChild(el('h4', 'mlp-pipelines-heading', 'Runs'));
    this._runs = el('div', 'mlp-pipelines-list mlp-runs');
    this.node.appendChild(this._runs);
  }

  protected onAfterAttach(): void {
    void this.refresh();
    this._timer = window.setInterval(() => void this._tick(), REFRESH_MS);
  }

  protected onBeforeDetach(): void {
    window.clearInterval(this._timer);
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  /**
   * Fetch schedules and runs again and re-render.
   */
  async refresh(): Promise<void> {
    try {
      const [schedules, runs] = await Promise.all([
        requestAPI<{ schedules: ISchedule[] }>('pipelines/schedules'),
        requestAPI<{ runs: IRun[] }>('pipelines/runs?limit=30')
      ]);
      await this._loadDags(runs.runs);
      this._watch(runs.runs);
      this._renderSchedules(schedules.schedules);
      this._renderRuns(runs.runs);
      this._showError('', 'list');
    } catch (reason) {
      this._showError(
        `Could not list schedules and runs: ${String(reason)}`,
        'list'
      );
    }
  }

  /**
   * Create a schedule from the form's values.
   */
  async createSchedule(): Promise<void> {
    const data = new FormData(this._form);
    const value = (key: string) => String(data.get(key) ?? '').trim();
    const body: Record<string, unknown> = {
      target: value('target'),
      timezone: value('timezone') || 'UTC'
    };
    const when = value('when');
    if (value('kind') === 'cron') {
      body.cron = when;
    } else if (/^\d+$/.test(when)) {
      body.interval_seconds = Number(when);
    } else {
      this._showError(
        `Give the interval in seconds (e.g. 3600), got "${when}"`
      );
      return;
    }
    if (value('name')) {
      body.name = value('name');
    }
    if (await this._call('pipelines/schedules', 'POST', body)) {
      for (const key of ['target', 'when', 'name']) {
        (this._form.elements.namedItem(key) as HTMLInputElement).value = '';
      }
    }
  }

  private _buildForm(): HTMLFormElement {
    const form = el('form', 'mlp-pipelines-form');
    const input = (name: string, label: string, placeholder: string) => {
      const wrap = el('label', '', label);
      const field = el('input', 'jp-mod-styled');
      field.name = name;
      field.placeholder = placeholder;
      wrap.appendChild(field);
      return { wrap, field };
    };
    const target = input('target', 'Target', 'notebook.ipynb or pipeline.yaml');
    const kindWrap = el('label', '', 'Every');
    const kind = el('select', 'jp-mod-styled');
    kind.name = 'kind';
    for (const [value, text] of [
      ['interval', 'interval (s)'],
      ['cron', 'cron']
    ]) {
      const option = el('option', '', text);
      option.value = value;
      kind.appendChild(option);
    }
    kindWrap.appendChild(kind);
    const when = input('when', 'When', '3600');
    kind.addEventListener('change', () => {
      when.field.placeholder = kind.value === 'cron' ? '0 2 * * *' : '3600';
    });
    const zone = input('timezone', 'Time zone', 'UTC');
    zone.field.value =
      Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    const name = input('name', 'Name', 'optional');
    const submit = el(
      'button',
      'jp-Button jp-mod-styled jp-mod-accept',
      'Add schedule'
    );
    submit.type = 'submit';
    submit.dataset.mlpAction = 'create-schedule';
    form.append(target.wrap, kindWrap, when.wrap, zone.wrap, name.wrap, submit);
    form.addEventListener('submit', event => {
      event.preventDefault();
      void this.createSchedule();
    });
    return form;
  }

  private async _tick(): Promise<void> {
    if (this.isVisible) {
      await this.refresh();
      return;
    }
    // Hidden: still watch for failed runs, less often and without rendering.
    this._hiddenTicks = (this._hiddenTicks + 1) % HIDDEN_EVERY;
    if (this._hiddenTicks === 0) {
      try {
        const runs = await requestAPI<{ runs: IRun[] }>(
          'pipelines/runs?limit=30'
        );
        this._watch(runs.runs);
      } catch {
        // The next visible refresh shows the error.
      }
    }
  }

  /**
   * Notify about runs of this user that turned failed since the last look.
   */
  private _watch(runs: IRun[]): void {
    const me = PageConfig.getOption('hubUser');
    for (const run of runs) {
      const before = this._seen.get(run.id);
      this._seen.set(run.id, run.status);
      const mine = !me || run.owner === me;
      if (
        this._primed &&
        mine &&
        FAILED.has(run.status) &&
        before !== run.status
      ) {
        const what = run.status === 'timed_out' ? 'timed out' : 'failed';
        const actions = run.output_path
          ? [
              {
                label: 'Open output',
                callback: () => void this._open(run.output_path!)
              }
            ]
          : [];
        Notification.error(
          `MLP run ${run.id.slice(0, 8)} of ${run.target} ${what}` +
            (run.error ? `: ${run.error}` : ''),
          { autoClose: false, actions }
        );
      }
    }
    this._primed = true;
  }

  private async _loadDags(runs: IRun[]): Promise<void> {
    const wanted = runs.filter(
      r =>
        this._expanded.has(r.id) &&
        (!this._dags.has(r.id) || !FINAL.has(this._dags.get(r.id)!.status))
    );
    await Promise.all(
      wanted.map(async r => {
        try {
          this._dags.set(
            r.id,
            await requestAPI<IRun>(`pipelines/runs/${r.id}`)
          );
        } catch (reason) {
          this._showError(
            `Could not load run ${r.id}: ${String(reason)}`,
            'list'
          );
        }
      })
    );
  }

  private async _call(
    path: string,
    method: string,
    body?: unknown
  ): Promise<boolean> {
    try {
      await requestAPI(path, {
        method,
        body: body === undefined ? '' : JSON.stringify(body)
      });
      this._showError('');
    } catch (reason) {
      this._showError(String(reason));
      return false;
    }
    await this.refresh();
    return true;
  }

  private async _open(path: string): Promise<void> {
    try {
      await this._openPath(path);
    } catch (reason) {
      this._showError(`Could not open ${path}: ${String(reason)}`);
    }
  }

  private _renderSchedules(schedules: ISchedule[]): void {
    const items: HTMLElement[] = [];
    for (const s of schedules) {
      const item = el('div', 'mlp-pipelines-item mlp-schedule');
      item.dataset.mlpSchedule = s.id;
      item.dataset.paused = String(s.paused);
      const head = el('div', 'mlp-item-head');
      head.append(
        el('span', 'mlp-item-name', s.name),
        el(
          'span',
          `mlp-run-status mlp-status-${s.paused ? 'paused' : 'active'}`,
          s.paused ? 'paused' : 'active'
        )
      );
      const when = s.cron ? s.cron : `every ${s.interval_seconds} s`;
      const meta = el('div', 'mlp-item-meta');
      meta.append(
        el('span', 'mlp-item-target', s.target),
        el('span', 'mlp-schedule-when', `${when} (${s.timezone})`)
      );
      if (s.next_fire && !s.paused) {
        const next = el(
          'span',
          'mlp-schedule-next',
          `next ${new Date(s.next_fire).toLocaleString()}`
        );
        next.title = s.next_fire;
        meta.appendChild(next);
      }
      const actions = el('div', 'mlp-pipelines-actions');
      const base = `pipelines/schedules/${s.id}`;
      actions.append(
        s.paused
          ? button(
              'Resume',
              'resume',
              () => void this._call(base, 'PATCH', { paused: false })
            )
          : button(
              'Pause',
              'pause',
              () => void this._call(base, 'PATCH', { paused: true })
            ),
        button(
          'Run now',
          'run-now',
          () => void this._call(`${base}/run`, 'POST')
        ),
        button(
          'Delete',
          'delete',
          () => void this._call(base, 'DELETE'),
          'jp-mod-warn'
        )
      );
      item.append(head, meta, actions);
      items.push(item);
    }
    if (schedules.length === 0) {
      items.push(el('div', 'mlp-pipelines-empty', 'No schedules yet.'));
    }
    this._schedules.replaceChildren(...items);
  }

  private _renderRuns(runs: IRun[]): void {
    const items: HTMLElement[] = [];
    for (const run of runs) {
      const item = el('div', 'mlp-pipelines-item mlp-run');
      item.dataset.mlpRun = run.id;
      item.dataset.status = run.status;
      item.title = [run.error, run.reason].filter(Boolean).join('\n');
      const head = el('div', 'mlp-item-head');
      head.append(
        el('span', 'mlp-item-name mlp-run-target', run.target),
        el(
          'span',
          `mlp-run-status mlp-status-${run.status}`,
          run.status.replace('_', ' ')
        )
      );
      const meta = el('div', 'mlp-item-meta');
      meta.append(
        el('span', 'mlp-run-id', run.id.slice(0, 8)),
        el('span', 'mlp-run-kind', run.kind)
      );
      const progress = progressText(run);
      if (progress) {
        meta.appendChild(el('span', 'mlp-run-progress', progress));
      }
      const duration = formatDuration(runDuration(run));
      if (duration) {
        meta.appendChild(el('span', 'mlp-run-duration', duration));
      }
      item.append(head, meta);
      if (run.error && FAILED.has(run.status)) {
        item.appendChild(el('div', 'mlp-run-error', run.error));
      }
      if (ACTIVE.has(run.status)) {
        const actions = el('div', 'mlp-pipelines-actions');
        actions.appendChild(
          button(
            'Cancel',
            'cancel',
            () => void this._call(`pipelines/runs/${run.id}/cancel`, 'POST'),
            'jp-mod-warn'
          )
        );
        item.appendChild(actions);
      }
      if (run.kind === 'pipeline') {
        item.classList.add('mlp-run-pipeline');
        item.dataset.expanded = String(this._expanded.has(run.id));
        item.addEventListener('click', () => {
          if (!this._expanded.delete(run.id)) {
            this._expanded.add(run.id);
          }
          void this.refresh();
        });
        const dag = this._dags.get(run.id);
        if (this._expanded.has(run.id) && dag) {
          const view = renderDag(
            dag,
            node => void this._open(node.output_path!)
          );
          // Clicks on the DAG open node outputs; they must not fold the run.
          view.addEventListener('click', event => event.stopPropagation());
          item.appendChild(view);
        }
      } else if (run.output_path) {
        item.classList.add('mlp-run-openable');
        item.addEventListener('click', () => void this._open(run.output_path!));
      }
      items.push(item);
    }
    if (runs.length === 0) {
      items.push(el('div', 'mlp-pipelines-empty', 'No runs yet.'));
    }
    this._runs.replaceChildren(...items);
  }

  /**
   * Show an error: a failed action's stays until the next action; a failed listing's
   * until the next listing succeeds.
   */
  private _showError(
    message: string,
    kind: 'action' | 'list' = 'action'
  ): void {
    this._errors[kind] = message;
    const text = [this._errors.action, this._errors.list]
      .filter(Boolean)
      .join('\n');
    this._error.textContent = text;
    this._error.hidden = text === '';
  }

  private _openPath: (path: string) => Promise<unknown>;
  private _form: HTMLFormElement;
  private _error: HTMLDivElement;
  private _schedules: HTMLDivElement;
  private _runs: HTMLDivElement;
  private _errors = { action: '', list: '' };
  private _timer = 0;
  private _hiddenTicks = 0;
  private _primed = false;
  private _seen = new Map<string, string>();
  private _expanded = new Set<string>();
  private _dags = new Map<string, IRun>();
}

/**
 * The "Pipelines" section of the MLP panel.
 */
export const pipelinesPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlp-jupyter-ext:pipelines',
  description:
    'Schedules and runs of notebooks and pipelines: run now, pause, cancel, open outputs, DAG view.',
  autoStart: true,
  requires: [IMLPPanel],
  activate: (app: JupyterFrontEnd, panel: IMLPPanel): void => {
    panel.addSection({
      id: 'pipelines',
      title: 'Pipelines',
      widget: new PipelinesSection(path =>
        app.commands.execute('docmanager:open', { path })
      ),
      rank: 200
    });
  }
};
