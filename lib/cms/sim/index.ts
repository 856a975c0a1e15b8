export { EventQueue } from './heap.js';
export { simulate, type CcConfig, type DegradedLink, type FabricConfig, type FlowResult, type FlowSpec, type PortStats, type SimConfig, type SimResult } from './fabric.js';
export { fcts, jain, percentile, queueStats, windowStats, type QueueStats, type WindowStats } from './metrics.js';
export { allToAll, defaultFabric, incast, nominalRttNs, permutation, permutationIdealGbps, targetQdelayNs, type ScenarioOptions } from './scenarios.js';
export { lineChartSvg, type Series } from './plot.js';
export { toCsv } from './csv.js';
