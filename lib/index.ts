// Package entry: the libfabric binding (lib/fabric).
export * from './fabric/index.js';
