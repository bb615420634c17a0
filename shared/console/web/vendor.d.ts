// The vendor scripts index.html loads before the console's modules (classic scripts, served from
// node_modules by functions/console.ts): their globals, typed by the packages' own declarations.
import type uPlotClass from 'uplot';
import type * as msalBrowser from '@azure/msal-browser';

declare global {
  /** uPlot (dist/uPlot.iife.min.js). */
  const uPlot: typeof uPlotClass;
  /** MSAL for the browser (lib/msal-browser.min.js). */
  const msal: typeof msalBrowser;
}
