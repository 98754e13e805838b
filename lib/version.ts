/**
 * The package's version (`package.json`'s): the OpenTelemetry instrumentation scope's version of the
 * spans and log records the package makes. `spec/package.spec.ts` checks that the two agree.
 */
export const PACKAGE_VERSION = '0.1.0';
