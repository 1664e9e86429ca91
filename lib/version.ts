// Replaced at build time by the package version (scripts/build.mjs).
declare const __SKIFF_VERSION__: string;
export const VERSION: string = typeof __SKIFF_VERSION__ === 'string' ? __SKIFF_VERSION__ : '0.0.0-dev';
