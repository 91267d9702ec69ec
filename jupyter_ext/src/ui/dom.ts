/**
 * The two DOM helpers every imperative bit of the lab views used to copy. Views render
 * with React (see `LabView`); these remain for the few places that build nodes by hand
 * (notification bodies, nodes handed to JupyterLab APIs that want an `HTMLElement`).
 */

/** The SVG namespace, for `document.createElementNS`. */
export const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Create an HTML element with an optional class and text.
 *
 * @param tag - the element's tag name
 * @param className - its class attribute (skipped when empty)
 * @param text - its text content (skipped when empty)
 */
export function el<K extends keyof HTMLElementTagNameMap>(
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

/**
 * Create an SVG element with attributes.
 *
 * @param tag - the SVG element's tag name
 * @param attrs - attributes, numbers written as strings
 */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {}
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    node.setAttribute(key, String(value));
  }
  return node;
}
