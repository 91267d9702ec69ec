/**
 * The one pattern for MLP lab views: import from here (see "Adding a view" in
 * jupyter_ext/README.md).
 */
export * from './components';
export * from './dom';
export * from './errors';
export * from './format';
export * from './poll';
export * from './request';
export * from './settings';
export * from './view';
