import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Widget } from '@lumino/widgets';

import { requestAPI } from './ui/request';
import { IMLPPanel } from './tokens';

/**
 * One cluster or job, as `GET /mlp/api/compute` lists it (see `mlp.compute.jobs`).
 */
export interface IComputeItem {
  id: string;
  kind: string;
  name: string;
  backend: string;
  status: string;
  started: number;
  duration_s: number;
  workers: number | null;
  dashboard: string | null;
  address: string | null;
}

const ACTIVE = new Set(['starting', 'running']);
const REFRESH_MS = 5000;

function field(
  label: string,
  name: string,
  placeholder: string
): HTMLLabelElement {
  const wrap = document.createElement('label');
  wrap.textContent = label;
  const input = document.createElement('input');
  input.name = name;
  input.placeholder = placeholder;
  input.className = 'jp-mod-styled';
  wrap.appendChild(input);
  return wrap;
}

/**
 * The "Compute" section: the user's Dask clusters and jobs with stop buttons, and a
 * form to start a Dask cluster (workers, threads per worker, memory per worker).
 */
export class ComputeSection extends Widget {
  constructor() {
    super();
    this.addClass('mlp-compute');

    this._form = document.createElement('form');
    this._form.className = 'mlp-compute-form';
    this._form.append(
      field('Workers', 'workers', 'profile cores'),
      field('Threads', 'threads', '1'),
      field('Memory', 'memory', 'e.g. 2GiB'),
      field('Name', 'name', 'lab')
    );
    const start = document.createElement('button');
    start.type = 'submit';
    start.className = 'jp-Button jp-mod-styled jp-mod-accept';
    start.dataset.mlpAction = 'start-dask';
    start.textContent = 'Start Dask cluster';
    this._form.appendChild(start);
    this._form.addEventListener('submit', event => {
      event.preventDefault();
      void this.startCluster();
    });
    this.node.appendChild(this._form);

    this._error = document.createElement('div');
    this._error.className = 'mlp-error';
    this._error.hidden = true;
    this.node.appendChild(this._error);

    this._table = document.createElement('table');
    this._table.className = 'mlp-compute-items';
    this.node.appendChild(this._table);
  }

  protected onAfterAttach(): void {
    void this.refresh();
    this._timer = window.setInterval(() => void this.refresh(), REFRESH_MS);
  }

  protected onBeforeDetach(): void {
    window.clearInterval(this._timer);
  }

  /**
   * Fetch the clusters and jobs again and re-render.
   */
  async refresh(): Promise<void> {
    try {
      const data = await requestAPI<{ items: IComputeItem[] }>('compute');
      this.render(data.items);
      this._showError('');
    } catch (reason) {
      this._showError(`Could not list clusters and jobs: ${String(reason)}`);
    }
  }

  /**
   * Start a Dask cluster from the form's values.
   */
  async startCluster(): Promise<void> {
    const data = new FormData(this._form);
    const body: Record<string, string> = {};
    for (const key of ['workers', 'threads', 'memory', 'name']) {
      const value = String(data.get(key) ?? '').trim();
      if (value) {
        body[key] = value;
      }
    }
    try {
      await requestAPI('compute/dask', {
        method: 'POST',
        body: JSON.stringify(body)
      });
      this._showError('');
    } catch (reason) {
      this._showError(String(reason));
    }
    await this.refresh();
  }

  /**
   * Stop a cluster or cancel a job.
   */
  async stop(id: string): Promise<void> {
    try {
      await requestAPI(`compute/${id}/stop`, { method: 'POST', body: '' });
    } catch (reason) {
      this._showError(String(reason));
    }
    await this.refresh();
  }

  /**
   * Render the items into the table.
   */
  render(items: IComputeItem[]): void {
    const head = document.createElement('tr');
    for (const title of [
      'name',
      'kind',
      'backend',
      'workers',
      'status',
      'started',
      ''
    ]) {
      const th = document.createElement('th');
      th.textContent = title;
      head.appendChild(th);
    }
    const rows: HTMLTableRowElement[] = [head];
    for (const item of items) {
      const tr = document.createElement('tr');
      tr.dataset.mlpJob = item.id;
      if (item.address) {
        // the scheduler address, for distributed.Client(...) in a notebook
        tr.title = `scheduler ${item.address}`;
      }
      const cells = [
        item.name,
        item.kind,
        item.backend,
        item.workers === null ? '' : String(item.workers),
        item.status,
        new Date(item.started * 1000).toLocaleTimeString()
      ];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      const actions = document.createElement('td');
      if (item.dashboard && ACTIVE.has(item.status)) {
        const link = document.createElement('a');
        link.href = item.dashboard;
        link.target = '_blank';
        link.rel = 'noopener';
        link.textContent = 'dashboard';
        actions.appendChild(link);
      }
      if (ACTIVE.has(item.status)) {
        const button = document.createElement('button');
        button.className = 'jp-Button jp-mod-styled jp-mod-warn';
        button.dataset.mlpAction = 'stop';
        button.textContent = 'Stop';
        button.addEventListener('click', () => void this.stop(item.id));
        actions.appendChild(button);
      }
      tr.appendChild(actions);
      rows.push(tr);
    }
    this._table.replaceChildren(...rows);
  }

  private _showError(message: string): void {
    this._error.textContent = message;
    this._error.hidden = message === '';
  }

  private _form: HTMLFormElement;
  private _error: HTMLDivElement;
  private _table: HTMLTableElement;
  private _timer = 0;
}

/**
 * The "Compute" section of the MLP panel.
 */
export const computePlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlp-jupyter-ext:compute',
  description:
    'Lists Dask clusters and jobs, stops them, starts a Dask cluster.',
  autoStart: true,
  requires: [IMLPPanel],
  activate: (app: JupyterFrontEnd, panel: IMLPPanel): void => {
    panel.addSection({
      id: 'compute',
      title: 'Compute',
      widget: new ComputeSection(),
      rank: 300
    });
  }
};
