/**
 * Where the server (`server/start.ts`) leaves the app for the Next.js routes and pages.
 * A registered symbol, so the server's copy of this module and the one Next.js bundles
 * name the same slot.
 * @module
 */
export const APP_KEY: unique symbol = Symbol.for('@rt/example-notifications') as never
