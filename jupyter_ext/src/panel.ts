import { LabIcon } from '@jupyterlab/ui-components';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { Panel, Widget } from '@lumino/widgets';

import { IMLPPanel, IMLPSectionOptions } from './tokens';
import { isRefreshable } from './ui/view';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <rect x="3" y="13" width="4" height="8" rx="1"/>
    <rect x="10" y="8" width="4" height="13" rx="1"/>
    <rect x="17" y="3" width="4" height="18" rx="1"/>
  </g>
</svg>`;

/**
 * The icon of the MLP sidebar panel.
 */
export const mlpIcon = new LabIcon({
  name: 'mlp-jupyter-ext:mlp',
  svgstr: ICON_SVG
});

const DEFAULT_RANK = 500;

/**
 * One titled section of the panel.
 */
class Section extends Panel {
  constructor(options: IMLPSectionOptions) {
    super();
    this.id = `mlp-section-${options.id}`;
    this.addClass('mlp-section');
    this.node.dataset.mlpSection = options.id;
    this.rank = options.rank ?? DEFAULT_RANK;
    // A landmark per section, named by its heading, so screen readers can jump to it.
    this.node.setAttribute('role', 'region');
    const header = new Widget({ node: document.createElement('h3') });
    header.addClass('mlp-section-title');
    header.id = `mlp-section-title-${options.id}`;
    header.node.textContent = options.title;
    this.node.setAttribute('aria-labelledby', header.id);
    this.addWidget(header);
    options.widget.addClass('mlp-section-body');
    this.addWidget(options.widget);
    this.body = options.widget;
  }

  readonly rank: number;
  readonly body: Widget;
}

/**
 * The MLP left sidebar panel: a vertical list of sections sorted by rank.
 */
export class MLPPanel extends Panel implements IMLPPanel {
  constructor() {
    super();
    this.id = 'mlp-panel';
    this.addClass('mlp-panel');
    this.title.icon = mlpIcon;
    this.title.caption = 'MLP';
    this.node.setAttribute('aria-label', 'MLP panel');
    const heading = new Widget({ node: document.createElement('h2') });
    heading.addClass('mlp-panel-title');
    heading.node.textContent = 'MLP';
    this.addWidget(heading);
  }

  /**
   * Add a section; sections with equal rank keep insertion order.
   */
  addSection(options: IMLPSectionOptions): IDisposable {
    if (this._sections.has(options.id)) {
      throw new Error(`MLP panel section "${options.id}" already exists`);
    }
    const section = new Section(options);
    this._sections.set(options.id, section);
    const ordered = [...this._sections.values()].sort(
      (a, b) => a.rank - b.rank
    );
    // Index 0 is the panel heading.
    this.insertWidget(ordered.indexOf(section) + 1, section);
    return new DisposableDelegate(() => {
      this._sections.delete(options.id);
      section.dispose();
    });
  }

  /**
   * Refresh every section whose widget can refresh (hidden ones when next shown).
   */
  async refresh(): Promise<void> {
    await Promise.all(
      [...this._sections.values()]
        .map(section => section.body)
        .filter(isRefreshable)
        .map(body => body.refresh())
    );
  }

  private _sections = new Map<string, Section>();
}
