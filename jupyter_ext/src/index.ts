import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import { computePlugin } from './compute';
import { environmentPlugin } from './environment';
import { distributionsPlugin, statsRendererPlugin } from './stats';
import { MLPPanel } from './panel';
import { pipelinesPlugin } from './pipelines';
import { IMLPPanel } from './tokens';

export { IMLPPanel, IMLPSectionOptions } from './tokens';
export { requestAPI } from './ui/request';
export { APIError } from './ui/errors';
export { LabView } from './ui/view';
export { MIME_TYPE as STATS_MIME_TYPE, StatsView } from './stats';

/**
 * Command ids of the panel (in the command palette under "MLP").
 */
export namespace CommandIDs {
  export const openPanel = 'mlp:open-panel';
  export const refresh = 'mlp:refresh';
}

/**
 * The MLP left sidebar panel (a shell that provides IMLPPanel) and its commands.
 */
const panelPlugin: JupyterFrontEndPlugin<IMLPPanel> = {
  id: 'mlp-jupyter-ext:panel',
  description: 'The MLP left sidebar panel and its palette commands.',
  autoStart: true,
  provides: IMLPPanel,
  optional: [ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ): IMLPPanel => {
    const panel = new MLPPanel();
    app.shell.add(panel, 'left', { rank: 150 });
    if (restorer) {
      restorer.add(panel, 'mlp-panel');
    }
    app.commands.addCommand(CommandIDs.openPanel, {
      label: 'MLP: Open panel',
      caption: 'Show the MLP sidebar panel',
      execute: () => app.shell.activateById(panel.id)
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'MLP: Refresh',
      caption: 'Refresh every section of the MLP panel now',
      execute: () => panel.refresh()
    });
    if (palette) {
      for (const command of [CommandIDs.openPanel, CommandIDs.refresh]) {
        palette.addItem({ command, category: 'MLP' });
      }
    }
    return panel;
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
