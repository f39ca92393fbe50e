/** @module The rtrec version, shown by `rtrec --version` and written into model manifests. */
export const VERSION = '0.1.0';
