import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import * as React from 'react';

import { getInfo } from './api/client';
import { IEnvironmentInfo } from './api/types';
import { IMLPPanel } from './tokens';
import {
  ActionButton,
  bindRefreshInterval,
  ErrorBanner,
  formatGiB,
  LabView,
  LoadStatus
} from './ui';

export type { IEnvironmentInfo } from './api/types';

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
      `${formatGiB(info.memory.total_bytes)} on the machine, limit ${formatGiB(info.memory.limit_bytes)}`
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
export class EnvironmentSection extends LabView<IEnvironmentInfo> {
  constructor() {
    super({ name: 'environment', refreshInterval: 60 });
    this.addClass('mlp-env');
  }

  protected load(): Promise<IEnvironmentInfo> {
    return getInfo();
  }

  protected renderView(): React.ReactElement {
    const info = this.data;
    const error = this.loadError
      ? `Could not load the environment: ${this.loadError.message}`
      : '';
    return (
      <>
        <div className="mlp-env-toolbar">
          <ActionButton
            label="Refresh"
            action="refresh"
            ariaLabel="Refresh the environment"
            disabled={this.loading}
            onClick={() => void this.refresh()}
          />
          <LoadStatus loading={this.loading} />
        </div>
        <ErrorBanner messages={[error]} />
        <dl className="mlp-env-fields" aria-label="Environment">
          {info &&
            describe(info).map(([label, field, text]) => (
              <React.Fragment key={field}>
                <dt>{label}</dt>
                <dd
                  data-mlp-field={field}
                  className={
                    field === 'service' && info.service
                      ? info.service.reachable
                        ? 'mlp-ok'
                        : 'mlp-unreachable'
                      : undefined
                  }
                >
                  {text}
                </dd>
              </React.Fragment>
            ))}
        </dl>
      </>
    );
  }
}

/**
 * The "Environment" section of the MLP panel.
 */
export const environmentPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlp-jupyter-ext:environment',
  description:
    'Shows the user, profile, hardware and versions in the MLP panel.',
  autoStart: true,
  requires: [IMLPPanel],
  optional: [ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    panel: IMLPPanel,
    registry: ISettingRegistry | null
  ): void => {
    const section = new EnvironmentSection();
    panel.addSection({
      id: 'environment',
      title: 'Environment',
      widget: section,
      rank: 100
    });
    void bindRefreshInterval(registry, environmentPlugin.id, section);
  }
};
