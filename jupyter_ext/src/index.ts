import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { computePlugin } from './compute';
import { EnvironmentSection } from './environment';
import { distributionsPlugin, statsRendererPlugin } from './stats';
import { MLPPanel } from './panel';
import { pipelinesPlugin } from './pipelines';
import { IMLPPanel } from './tokens';

export { IMLPPanel, IMLPSectionOptions } from './tokens';
export { requestAPI } from './request';
export { MIME_TYPE as STATS_MIME_TYPE, StatsView } from './stats';

/**
 * The MLP left sidebar panel (a shell that provides IMLPPanel).
 */
const panelPlugin: JupyterFrontEndPlugin<IMLPPanel> = {
  id: 'mlp-jupyter-ext:panel',
  description: 'The MLP left sidebar panel.',
  autoStart: true,
  provides: IMLPPanel,
  optional: [ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null
  ): IMLPPanel => {
    const panel = new MLPPanel();
    app.shell.add(panel, 'left', { rank: 150 });
    if (restorer) {
      restorer.add(panel, 'mlp-panel');
    }
    return panel;
  }
};

/**
 * The "Environment" section of the MLP panel.
 */
const environmentPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlp-jupyter-ext:environment',
  description:
    'Shows the user, profile, hardware and versions in the MLP panel.',
  autoStart: true,
  requires: [IMLPPanel],
  activate: (app: JupyterFrontEnd, panel: IMLPPanel): void => {
    const section = new EnvironmentSection();
    panel.addSection({
      id: 'environment',
      title: 'Environment',
      widget: section,
      rank: 100
    });
    void section.refresh();
  }
};

export default [
  panelPlugin,
  environmentPlugin,
  pipelinesPlugin,
  computePlugin,
  statsRendererPlugin,
  distributionsPlugin
];
