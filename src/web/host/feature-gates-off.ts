/**
 * Stand-in for Atlassian's feature-gate client (Statsig), which ADS packages consult through
 * `@atlaskit/platform-feature-flags`. Outside Atlassian's own products no gate is ever initialised, so every
 * gate is off; the real client would only add ~30 KB gzip to every page to say the same.
 */
const FeatureGates = {
  checkGate: (_name: string): boolean => false,
  getExperimentValue: <T>(_experiment: string, _parameter: string, defaultValue: T): T => defaultValue,
  initializeCompleted: (): boolean => false,
};

export default FeatureGates;
