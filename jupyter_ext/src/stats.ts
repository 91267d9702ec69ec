import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { MainAreaWidget, showErrorMessage } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { requestAPI } from './ui/request';

/**
 * Mime type of `%mlp stats` output (see `mlp.stats.MIME_TYPE`).
 */
export const MIME_TYPE = 'application/vnd.mlp.stats+json';

/** A payload number: finite numbers, infinities as strings, NaN as null. */
type Num = number | 'inf' | '-inf' | null;

export interface IDatasetStats {
  present: boolean;
  count: number;
  missing: number;
  nu: Num;
  // numeric
  zeros?: number;
  mean?: Num;
  std?: Num;
  min?: Num;
  median?: Num;
  max?: Num;
  edges?: Num[];
  counts?: number[];
  // categorical
  unique?: number;
  avg_length?: Num;
  top?: [string, number][];
}

export interface IDrift {
  psi: Num;
  ks: Num;
  drifted: boolean;
}

export interface IFeature {
  name: string;
  kind: 'numeric' | 'string';
  type: string;
  stats: IDatasetStats[];
  drift: (IDrift | null)[];
}

/**
 * The compact JSON payload written by `mlp.stats.StatsResult.payload()`.
 */
export interface IStatsPayload {
  version: number;
  datasets: {
    name: string;
    num_examples: number;
    sampled_from: number | null;
  }[];
  target: string | null;
  threshold: number;
  summary: string;
  features: IFeature[];
}

/** One color per dataset (same palette as the static HTML). */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2'
];

const SVG_NS = 'http://www.w3.org/2000/svg';

export type SortKey = 'name' | 'missing' | 'nonuniformity' | 'drift';

function color(i: number): string {
  return PALETTE[i % PALETTE.length];
}

function finite(value: Num | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * Short text of a payload number.
 */
export function fmt(value: Num | undefined): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'string') {
    return value;
  }
  if (Number.isInteger(value) && Math.abs(value) < 1e15) {
    return value.toLocaleString('en-US');
  }
  if (value !== 0 && (Math.abs(value) >= 1e6 || Math.abs(value) < 1e-3)) {
    return value.toPrecision(3);
  }
  return value.toLocaleString('en-US', { maximumSignificantDigits: 4 });
}

function pct(part: number, whole: number): string {
  return whole ? `${((100 * part) / whole).toFixed(1)}%` : '';
}

function missingShare(f: IFeature, p: IStatsPayload): number {
  return Math.max(
    ...f.stats.map((s, i) =>
      p.datasets[i].num_examples ? s.missing / p.datasets[i].num_examples : 0
    )
  );
}

function maxDrift(f: IFeature): number {
  return Math.max(-1, ...f.drift.map(d => finite(d?.psi) ?? -1));
}

function maxNonUniformity(f: IFeature): number {
  return Math.max(-1, ...f.stats.map(s => finite(s.nu) ?? -1));
}

/**
 * Features of one kind, filtered by name and sorted (descending for all keys but name).
 */
export function arrange(
  payload: IStatsPayload,
  kind: 'numeric' | 'string',
  filter: string,
  sort: SortKey
): IFeature[] {
  const needle = filter.trim().toLowerCase();
  const feats = payload.features.filter(
    f => f.kind === kind && (!needle || f.name.toLowerCase().includes(needle))
  );
  const key: Record<SortKey, (f: IFeature) => number> = {
    name: () => 0,
    missing: f => missingShare(f, payload),
    nonuniformity: maxNonUniformity,
    drift: maxDrift
  };
  if (sort === 'name') {
    // the target stays first
    return feats.sort(
      (a, b) =>
        Number(b.name === payload.target) - Number(a.name === payload.target) ||
        a.name.localeCompare(b.name)
    );
  }
  return feats.sort(
    (a, b) => key[sort](b) - key[sort](a) || a.name.localeCompare(b.name)
  );
}

function svg(width: number, height: number, cls: string): SVGSVGElement {
  const node = document.createElementNS(SVG_NS, 'svg');
  node.setAttribute('width', `${width}`);
  node.setAttribute('height', `${height}`);
  node.setAttribute('class', cls);
  return node;
}

function rect(
  parent: SVGElement,
  x: number,
  y: number,
  w: number,
  h: number,
  fill: string,
  opacity: number,
  title: string
): void {
  const r = document.createElementNS(SVG_NS, 'rect');
  r.setAttribute('x', x.toFixed(1));
  r.setAttribute('y', y.toFixed(1));
  r.setAttribute('width', w.toFixed(1));
  r.setAttribute('height', h.toFixed(1));
  r.setAttribute('fill', fill);
  r.setAttribute('fill-opacity', `${opacity}`);
  const t = document.createElementNS(SVG_NS, 'title');
  t.textContent = title;
  r.appendChild(t);
  parent.appendChild(r);
}

function text(
  parent: SVGElement,
  x: number,
  y: number,
  content: string,
  anchor = 'start'
): void {
  const t = document.createElementNS(SVG_NS, 'text');
  t.setAttribute('x', `${x}`);
  t.setAttribute('y', `${y}`);
  t.setAttribute('font-size', '10');
  t.setAttribute('text-anchor', anchor);
  t.setAttribute('fill', 'currentColor');
  t.textContent = content;
  parent.appendChild(t);
}

/**
 * Overlaid equal-width histograms (share of each dataset's values per bucket).
 */
export function histogram(
  stats: IDatasetStats[],
  names: string[],
  width = 140,
  height = 40,
  axis = false
): SVGSVGElement {
  const pad = axis ? 14 : 0;
  const node = svg(width, height + pad, 'mlp-stats-hist');
  const lows = stats.map(s => finite(s.edges?.[0])).filter(v => v !== null);
  const highs = stats
    .map(s => finite(s.edges?.[s.edges.length - 1]))
    .filter(v => v !== null);
  if (!lows.length || !highs.length) {
    return node;
  }
  const lo = Math.min(...(lows as number[]));
  const hi = Math.max(...(highs as number[]));
  const span = hi - lo || 1;
  let peak = 0;
  for (const s of stats) {
    const total = (s.counts ?? []).reduce((a, b) => a + b, 0) || 1;
    peak = Math.max(peak, ...(s.counts ?? []).map(c => c / total));
  }
  peak = peak || 1;
  stats.forEach((s, i) => {
    const counts = s.counts ?? [];
    const edges = s.edges ?? [];
    const total = counts.reduce((a, b) => a + b, 0) || 1;
    counts.forEach((c, b) => {
      const a = finite(edges[b]);
      const z = finite(edges[b + 1]);
      if (a === null || z === null || c === 0) {
        return;
      }
      const h = (c / total / peak) * (height - 2);
      rect(
        node,
        ((a - lo) / span) * width,
        height - h,
        Math.max(1, ((z - a) / span) * width),
        h,
        color(i),
        0.45,
        `${names[i]}: [${fmt(a)}, ${fmt(z)}] ${c.toLocaleString('en-US')} (${pct(c, total)})`
      );
    });
  });
  if (axis) {
    text(node, 0, height + 11, fmt(lo));
    text(node, width, height + 11, fmt(hi), 'end');
  }
  return node;
}

/**
 * Horizontal bars of the top levels: one bar per dataset (share of its values).
 */
export function topValues(
  stats: IDatasetStats[],
  names: string[],
  width = 140,
  levels = 5,
  labels = false
): SVGSVGElement {
  const order: string[] = [];
  for (const s of stats) {
    for (const [label] of s.top ?? []) {
      if (!order.includes(label) && order.length < levels) {
        order.push(label);
      }
    }
  }
  const bar = labels ? 8 : 5;
  const gap = labels ? 12 : 3;
  const row = bar * Math.max(1, stats.length) + gap;
  const node = svg(width, Math.max(10, row * order.length), 'mlp-stats-top');
  const offset = labels ? 100 : 0;
  order.forEach((label, li) => {
    if (labels) {
      text(node, 0, li * row + bar + 2, label.slice(0, 16));
    }
    stats.forEach((s, i) => {
      const counts = new Map(s.top ?? []);
      const share = s.count ? (counts.get(label) ?? 0) / s.count : 0;
      rect(
        node,
        offset,
        li * row + i * bar,
        share * (width - offset),
        bar - 1,
        color(i),
        1,
        `${names[i]}: ${label} ${(share * 100).toFixed(1)}%`
      );
    });
  });
  return node;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string,
  content?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (cls) {
    node.className = cls;
  }
  if (content !== undefined) {
    node.textContent = content;
  }
  return node;
}

const NUMERIC_COLUMNS = [
  'count',
  'missing',
  'zeros',
  'mean',
  'std dev',
  'min',
  'median',
  'max'
];
const STRING_COLUMNS = [
  'count',
  'missing',
  'unique',
  'top',
  'freq top',
  'avg length'
];

/**
 * Interactive Overview of a stats payload: filter, sort, two tables, expandable features.
 */
export class StatsView extends Widget {
  constructor() {
    super();
    this.addClass('mlp-stats-view');
  }

  /**
   * Show a payload (replaces what was shown).
   */
  setPayload(payload: IStatsPayload): void {
    this._payload = payload;
    this._expanded.clear();
    this._build();
  }

  /** Current filter text (for tests and restoring). */
  get filter(): string {
    return this._filter;
  }

  private _build(): void {
    const payload = this._payload;
    this.node.replaceChildren();
    if (!payload) {
      return;
    }
    const legend = el('div', 'mlp-stats-datasets');
    payload.datasets.forEach((d, i) => {
      const key = el('span', 'mlp-stats-key');
      key.style.background = color(i);
      const sampled = d.sampled_from
        ? `, sampled from ${d.sampled_from.toLocaleString('en-US')}`
        : '';
      legend.append(
        key,
        el(
          'span',
          'mlp-stats-dataset',
          `${d.name} (${d.num_examples.toLocaleString('en-US')} rows${sampled})`
        )
      );
    });
    this.node.appendChild(legend);
    if (payload.summary) {
      this.node.appendChild(
        el('div', 'mlp-stats-drift-summary', payload.summary)
      );
    }

    const toolbar = el('div', 'mlp-stats-toolbar');
    const filter = el('input', 'mlp-stats-filter');
    filter.type = 'search';
    filter.placeholder = 'Filter features by name';
    filter.value = this._filter;
    filter.addEventListener('input', () => {
      this._filter = filter.value;
      this._renderTables();
    });
    const sort = el('select', 'mlp-stats-sort');
    const options: [SortKey, string][] = [
      ['name', 'Sort by name'],
      ['missing', 'Sort by missing %'],
      ['nonuniformity', 'Sort by non-uniformity']
    ];
    if (payload.datasets.length > 1) {
      options.push(['drift', 'Sort by drift (PSI)']);
    }
    for (const [value, label] of options) {
      const option = el('option', undefined, label);
      option.value = value;
      option.selected = value === this._sort;
      sort.appendChild(option);
    }
    sort.addEventListener('change', () => {
      this._sort = sort.value as SortKey;
      this._renderTables();
    });
    toolbar.append(filter, sort);
    this.node.appendChild(toolbar);
    this._tables = el('div', 'mlp-stats-tables');
    this.node.appendChild(this._tables);
    this._renderTables();
  }

  private _renderTables(): void {
    const payload = this._payload;
    if (!payload) {
      return;
    }
    this._tables.replaceChildren();
    let shown = 0;
    for (const kind of ['numeric', 'string'] as const) {
      const feats = arrange(payload, kind, this._filter, this._sort);
      const total = payload.features.filter(f => f.kind === kind).length;
      if (!total) {
        continue;
      }
      shown += feats.length;
      const title =
        kind === 'numeric' ? 'Numeric features' : 'Categorical features';
      this._tables.appendChild(
        el('h4', 'mlp-stats-title', `${title} (${feats.length} of ${total})`)
      );
      this._tables.appendChild(this._table(kind, feats));
    }
    if (!shown) {
      this._tables.appendChild(
        el(
          'div',
          'mlp-stats-empty',
          payload.features.length
            ? 'No feature matches the filter.'
            : 'No columns.'
        )
      );
    }
  }

  private _table(
    kind: 'numeric' | 'string',
    feats: IFeature[]
  ): HTMLTableElement {
    const payload = this._payload!;
    const names = payload.datasets.map(d => d.name);
    const withDrift = payload.datasets.length > 1;
    const columns = kind === 'numeric' ? NUMERIC_COLUMNS : STRING_COLUMNS;
    const table = el('table', `mlp-stats-table mlp-stats-table-${kind}`);
    table.dataset.kind = kind;
    const head = el('tr');
    head.append(
      el('th', 'mlp-stats-name', 'feature'),
      el('th', undefined, 'dataset')
    );
    for (const c of columns) {
      head.appendChild(el('th', undefined, c));
    }
    if (withDrift) {
      head.appendChild(el('th', 'mlp-stats-psi', 'drift (PSI)'));
    }
    head.appendChild(
      el('th', undefined, kind === 'numeric' ? 'histogram' : 'top values')
    );
    table.appendChild(el('thead')).appendChild(head);
    const body = el('tbody');
    const span = 3 + columns.length + (withDrift ? 1 : 0);
    for (const f of feats) {
      f.stats.forEach((s, i) => {
        const tr = el('tr', 'mlp-stats-row');
        tr.dataset.feature = f.name;
        tr.dataset.dataset = names[i];
        if (i === 0) {
          const name = el('td', 'mlp-stats-name');
          name.rowSpan = f.stats.length;
          const button = el('button', 'mlp-stats-expand');
          button.textContent = `${this._expanded.has(f.name) ? '▾' : '▸'} ${f.name}`;
          button.title = 'Show a larger chart';
          button.addEventListener('click', () => {
            if (this._expanded.has(f.name)) {
              this._expanded.delete(f.name);
            } else {
              this._expanded.add(f.name);
            }
            this._renderTables();
          });
          name.appendChild(button);
          if (f.name === payload.target) {
            name.appendChild(el('span', 'mlp-stats-target', ' target'));
          }
          tr.appendChild(name);
        }
        const ds = el('td', 'mlp-stats-ds', names[i]);
        ds.style.color = color(i);
        tr.appendChild(ds);
        const total = payload.datasets[i].num_examples;
        let cells: string[];
        if (!s.present) {
          cells = ['absent', ...columns.slice(1).map(() => '')];
        } else if (kind === 'numeric') {
          cells = [
            fmt(s.count),
            pct(s.missing, total),
            pct(s.zeros ?? 0, total),
            fmt(s.mean),
            fmt(s.std),
            fmt(s.min),
            fmt(s.median),
            fmt(s.max)
          ];
        } else {
          const top = s.top?.[0];
          cells = [
            fmt(s.count),
            pct(s.missing, total),
            fmt(s.unique),
            top ? top[0] : '',
            top ? fmt(top[1]) : '',
            fmt(s.avg_length)
          ];
        }
        cells.forEach((c, ci) => {
          const td = el('td', undefined, c);
          td.dataset.column = columns[ci];
          tr.appendChild(td);
        });
        if (withDrift) {
          const d = f.drift[i];
          const td = el('td', 'mlp-stats-psi', d ? fmt(d.psi) : '');
          if (d) {
            td.title = `PSI ${fmt(d.psi)}${d.ks !== null ? `, KS ${fmt(d.ks)}` : ''}`;
            td.classList.toggle('mlp-stats-drifted', d.drifted);
          }
          tr.appendChild(td);
        }
        if (i === 0) {
          const chart = el('td', 'mlp-stats-chart');
          chart.rowSpan = f.stats.length;
          chart.appendChild(
            kind === 'numeric'
              ? histogram(f.stats, names)
              : topValues(f.stats, names)
          );
          tr.appendChild(chart);
        }
        body.appendChild(tr);
      });
      if (this._expanded.has(f.name)) {
        const tr = el('tr', 'mlp-stats-expanded');
        tr.dataset.feature = f.name;
        const td = el('td');
        td.colSpan = span;
        td.appendChild(
          kind === 'numeric'
            ? histogram(f.stats, names, 480, 140, true)
            : topValues(f.stats, names, 480, 20, true)
        );
        tr.appendChild(td);
        body.appendChild(tr);
      }
    }
    table.appendChild(body);
    return table;
  }

  private _payload: IStatsPayload | null = null;
  private _filter = '';
  private _sort: SortKey = 'name';
  private _expanded = new Set<string>();
  private _tables: HTMLDivElement = document.createElement('div');
}

/**
 * Mime renderer of `application/vnd.mlp.stats+json` outputs.
 */
export class StatsRenderer extends StatsView implements IRenderMime.IRenderer {
  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.setPayload(model.data[MIME_TYPE] as unknown as IStatsPayload);
  }
}

/**
 * Renderer factory registered with the application's rendermime registry.
 */
export const statsRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  defaultRank: 10, // before text/html (50): the HTML is only the static fallback
  createRenderer: () => new StatsRenderer()
};

/**
 * Registers the renderer, so `%mlp stats` outputs draw as interactive tables.
 */
export const statsRendererPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlp-jupyter-ext:stats-renderer',
  description: 'Renders %mlp stats outputs (application/vnd.mlp.stats+json).',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  activate: (app: JupyterFrontEnd, rendermime: IRenderMimeRegistry): void => {
    rendermime.addFactory(
      statsRendererFactory,
      statsRendererFactory.defaultRank
    );
  }
};

/** File types that "Show distributions" accepts. */
export const STATS_FILE = /\.(csv|tsv|parquet|pq)$/i;

export const SHOW_DISTRIBUTIONS = 'mlp:show-distributions';

/**
 * Open the distributions of a server file (`GET /mlp/api/stats?path=...`) in the main area.
 */
export async function showDistributions(
  app: JupyterFrontEnd,
  path: string
): Promise<MainAreaWidget<StatsView>> {
  const view = new StatsView();
  const widget = new MainAreaWidget({ content: view });
  widget.id = `mlp-stats-${Date.now()}`;
  widget.title.label = `Distributions: ${path.split('/').pop()}`;
  widget.title.closable = true;
  widget.addClass('mlp-stats-panel');
  view.node.textContent = `Computing statistics of ${path}…`;
  app.shell.add(widget, 'main');
  try {
    const payload = await requestAPI<IStatsPayload>(
      `stats?path=${encodeURIComponent(path)}`
    );
    view.setPayload(payload);
  } catch (reason) {
    const message = reason instanceof Error ? reason.message : String(reason);
    view.node.textContent = `Could not compute statistics of ${path}: ${message}`;
    view.node.classList.add('mlp-error');
  }
  return widget;
}

/**
 * "Show distributions" in the file browser's context menu for .csv and .parquet files.
 */
export const distributionsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlp-jupyter-ext:show-distributions',
  description:
    'Adds "Show distributions" to the file browser for .csv/.parquet files.',
  autoStart: true,
  requires: [IDefaultFileBrowser],
  activate: (app: JupyterFrontEnd, browser: IDefaultFileBrowser): void => {
    const selected = (): string | null => {
      const item = browser.selectedItems().next();
      if (item.done || !item.value || item.value.type === 'directory') {
        return null;
      }
      return STATS_FILE.test(item.value.path) ? item.value.path : null;
    };
    app.commands.addCommand(SHOW_DISTRIBUTIONS, {
      label: 'Show distributions',
      caption: 'Overview statistics of this table (MLP)',
      isVisible: () => selected() !== null,
      execute: async args => {
        const path = (args.path as string | undefined) ?? selected();
        if (!path) {
          await showErrorMessage(
            'Show distributions',
            'Select a .csv or .parquet file.'
          );
          return;
        }
        await showDistributions(app, path);
      }
    });
    app.contextMenu.addItem({
      command: SHOW_DISTRIBUTIONS,
      selector: '.jp-DirListing-item[data-isdir="false"]',
      rank: 3
    });
  }
};
