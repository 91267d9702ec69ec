/**
 * Small React components shared by the MLP lab views, so every view reads and behaves
 * alike (errors announced, buttons labelled, rows reachable by keyboard).
 */
import * as React from 'react';

/**
 * Error text of a view (`.mlp-error`), announced by screen readers; hidden when empty.
 */
export function ErrorBanner(props: {
  messages: (string | null | undefined)[];
}): React.ReactElement {
  const text = props.messages.filter(Boolean).join('\n');
  return (
    <div className="mlp-error" role="alert" hidden={!text}>
      {text}
    </div>
  );
}

/**
 * A button of a view; `action` becomes `data-mlp-action` (what tests and styles use).
 * Clicks do not bubble: buttons sit in rows that are clickable themselves.
 */
export function ActionButton(props: {
  label: string;
  action: string;
  onClick: () => void;
  /** e.g. "jp-mod-warn" for destructive actions, "jp-mod-accept" for the main one */
  kind?: string;
  /** what a screen reader says when the label alone is ambiguous ("Stop lab") */
  ariaLabel?: string;
  disabled?: boolean;
  type?: 'button' | 'submit';
}): React.ReactElement {
  const type = props.type ?? 'button';
  return (
    <button
      type={type}
      className={`jp-Button jp-mod-styled ${props.kind ?? ''}`.trim()}
      data-mlp-action={props.action}
      aria-label={props.ariaLabel}
      disabled={props.disabled}
      onClick={event => {
        event.stopPropagation();
        if (type === 'button') {
          props.onClick();
        }
      }}
    >
      {props.label}
    </button>
  );
}

/**
 * A labelled text input of a form; uncontrolled, so refreshes never touch what the
 * user is typing (read the values with `FormData` on submit).
 */
export function TextField(props: {
  label: string;
  name: string;
  placeholder?: string;
  defaultValue?: string;
}): React.ReactElement {
  return (
    <label>
      {props.label}
      <input
        className="jp-mod-styled"
        name={props.name}
        placeholder={props.placeholder}
        defaultValue={props.defaultValue}
      />
    </label>
  );
}

/**
 * Props that make a list row reachable and usable by keyboard: in the tab order,
 * activated by Enter or Space as by a click (only when the row itself has focus, not a
 * button inside it).
 *
 * @param onActivate - what a click does
 * @param label - the row's accessible name
 */
export function activateProps(
  onActivate: () => void,
  label: string
): React.HTMLAttributes<HTMLElement> {
  return {
    tabIndex: 0,
    'aria-label': label,
    onClick: () => onActivate(),
    onKeyDown: (event: React.KeyboardEvent<HTMLElement>) => {
      if (
        event.target === event.currentTarget &&
        (event.key === 'Enter' || event.key === ' ')
      ) {
        event.preventDefault();
        onActivate();
      }
    }
  };
}

/**
 * "Loading…" while a load is in flight, announced politely (`.mlp-status`).
 */
export function LoadStatus(props: { loading: boolean }): React.ReactElement {
  return (
    <span className="mlp-status" aria-live="polite">
      {props.loading ? 'Loading…' : ''}
    </span>
  );
}
