import { Widget } from '@lumino/widgets';

import { requestAPI } from './request';

/**
 * The JSON that `GET /mlp/api/info` returns (see `mlp.info.collect_info`).
 */
export interface IEnvironmentInfo {
  user: string;
  profile: { slug: string; display_name: string };
  cpu: { count: number; usable: number; limit: number | null };
  memory: { total_bytes: number; limit_bytes: number | null };
  gpus: { name: string; memory_mib: number }[];
  versions: Record<string, string | null>;
  service?: {
    reachable: boolean;
    url: string | null;
    error?: string | null;
  } | null;
}

function gib(value: number | null | undefined): string {
  return value === null || value === undefined
    ? 'no limit'
    : `${(value / 1024 ** 3).toFixed(1)} GiB`;
}

/**
 * Turn the info JSON into (label, field, text) rows.
 */
export function describe(info: IEnvironmentInfo): [string, string, string][] {
  const cpu = info.cpu;
  const cpuLimit = cpu.limit === null ? 'no limit' : `${cpu.limit}`;
  const gpus =
    info.gpus && info.gpus.length > 0
      ? info.gpus.map(g => `${g.name} (${g.memory_mib} MiB)`).join(', ')
      : 'none';
  const service = info.service;
  let serviceText: string;
  if (!service) {
    serviceText = 'not checked';
  } else {
    const detail = service.error ? ` (${service.error})` : '';
    if (!service.url) {
      serviceText = `not configured${detail}`;
    } else if (service.reachable) {
      serviceText = `reachable at ${service.url}`;
    } else {
      serviceText = `unreachable at ${service.url}${detail}`;
    }
  }
  const rows: [string, string, string][] = [
    ['User', 'user', info.user],
    [
      'Profile',
      'profile',
      `${info.profile.display_name} [${info.profile.slug}]`
    ],
    [
      'CPUs',
      'cpu',
      `${cpu.count} on the machine, ${cpu.usable} usable, limit ${cpuLimit}`
    ],
    [
      'Memory',
      'memory',
      `${gib(info.memory.total_bytes)} on the machine, limit ${gib(info.memory.limit_bytes)}`
    ],
    ['GPUs', 'gpus', gpus]
  ];
  for (const [name, version] of Object.entries(info.versions ?? {})) {
    rows.push([name, `version-${name}`, version ?? 'not installed']);
  }
  rows.push(['MLP service', 'service', serviceText]);
  return rows;
}

/**
 * The "Environment" section: who am I, which profile, what hardware, which versions.
 */
export class EnvironmentSection extends Widget {
  constructor() {
    super();
    this.addClass('mlp-env');

    const toolbar = document.createElement('div');
    toolbar.className = 'mlp-env-toolbar';
    this._button = document.createElement('button');
    this._button.className = 'jp-Button jp-mod-styled mlp-refresh';
    this._button.dataset.mlpAction = 'refresh';
    this._button.textContent = 'Refresh';
    this._button.addEventListener('click', () => void this.refresh());
    toolbar.appendChild(this._button);
    this._status = document.createElement('span');
    this._status.className = 'mlp-status';
    toolbar.appendChild(this._status);
    this.node.appendChild(toolbar);

    this._error = document.createElement('div');
    this._error.className = 'mlp-error';
    this._error.hidden = true;
    this.node.appendChild(this._error);

    this._list = document.createElement('dl');
    this._list.className = 'mlp-env-fields';
    this.node.appendChild(this._list);
  }

  /**
   * Fetch `/mlp/api/info` again and re-render.
   */
  async refresh(): Promise<void> {
    this._button.disabled = true;
    this._status.textContent = 'Loading…';
    try {
      const info = await requestAPI<IEnvironmentInfo>('info');
      this.render(info);
      this._error.hidden = true;
      this._error.textContent = '';
      this._status.textContent = '';
    } catch (reason) {
      const message = reason instanceof Error ? reason.message : String(reason);
      this._error.textContent = `Could not load the environment: ${message}`;
      this._error.hidden = false;
      this._status.textContent = '';
    } finally {
      this._button.disabled = false;
    }
  }

  /**
   * Render the info JSON into the field list.
   */
  render(info: IEnvironmentInfo): void {
    this._list.replaceChildren();
    for (const [label, field, text] of describe(info)) {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.dataset.mlpField = field;
      dd.textContent = text;
      if (field === 'service' && info.service) {
        dd.classList.add(info.service.reachable ? 'mlp-ok' : 'mlp-unreachable');
      }
      this._list.append(dt, dd);
    }
  }

  private _button: HTMLButtonElement;
  private _status: HTMLSpanElement;
  private _error: HTMLDivElement;
  private _list: HTMLDListElement;
}
