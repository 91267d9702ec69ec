import { ISettingRegistry } from '@jupyterlab/settingregistry';

/**
 * A view whose refresh interval the settings set.
 */
export interface IRefreshSettable {
  refreshInterval: number;
}

/**
 * Apply a plugin's `refreshInterval` setting (seconds) to views, now and on each change.
 *
 * Each view plugin ships `schema/<plugin>.json` with a `refreshInterval` property; with no
 * registry (tests, other front ends) the views keep their defaults.
 *
 * @param registry - the setting registry, or null
 * @param pluginId - e.g. `mlp-jupyter-ext:compute` (its schema is `schema/compute.json`)
 * @param views - the views to set
 * @returns the plugin's settings once loaded (null without a registry or on failure)
 */
export async function bindRefreshInterval(
  registry: ISettingRegistry | null,
  pluginId: string,
  ...views: IRefreshSettable[]
): Promise<ISettingRegistry.ISettings | null> {
  if (!registry) {
    return null;
  }
  try {
    const settings = await registry.load(pluginId);
    const apply = () => {
      const seconds = Number(settings.get('refreshInterval').composite);
      for (const view of views) {
        view.refreshInterval = seconds;
      }
    };
    apply();
    settings.changed.connect(apply);
    return settings;
  } catch (reason) {
    console.warn(`MLP: could not load the settings of ${pluginId}`, reason);
    return null;
  }
}
