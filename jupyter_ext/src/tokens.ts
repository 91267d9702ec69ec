import { Token } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

/**
 * Options for a section of the MLP sidebar panel.
 */
export interface IMLPSectionOptions {
  /**
   * Unique id of the section (also used as its DOM id suffix).
   */
  id: string;
  /**
   * Heading shown above the section.
   */
  title: string;
  /**
   * Body of the section.
   */
  widget: Widget;
  /**
   * Sections are sorted by ascending rank (default 500).
   */
  rank?: number;
}

/**
 * The MLP sidebar panel: a shell that features add sections to.
 */
export interface IMLPPanel {
  /**
   * Add a section to the panel.
   *
   * @param options - the section's id, title, body widget and rank.
   * @returns a disposable that removes the section again.
   */
  addSection(options: IMLPSectionOptions): IDisposable;

  /**
   * Refresh every section whose widget has a `refresh()` method (every `LabView`);
   * sections not on screen refresh when next shown. The "MLP: Refresh" command.
   */
  refresh(): Promise<void>;
}

/**
 * The token that provides the MLP sidebar panel.
 */
export const IMLPPanel = new Token<IMLPPanel>(
  'mlp-jupyter-ext:IMLPPanel',
  'The MLP sidebar panel; add sections to it with addSection().'
);
