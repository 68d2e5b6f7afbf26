/**
 * Which browser origins may use the endpoint: CORS headers, preflights, and the cross-site
 * checks that keep another site from acting with a user's cookies.
 * @module
 */
import { RtError } from './errors.js'
import type { HubPlainResponse } from './sink.js'

/**
 * Browser origins allowed to use the endpoint from another origin: exact origins
 * (`'https://app.example.com'`, scheme and host and port only), or a function deciding per
 * origin. The endpoint's own origin is always allowed.
 */
export type OriginsOption = readonly string[] | ((origin: string) => boolean)

/** Headers a preflight may ask for: an HTTP token list, of bounded length. */
const HEADER_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/
const MAX_HEADER_LIST = 1_024
const PREFLIGHT_MAX_AGE = '600'
const METHODS = 'GET, POST'

/** What the checks read of a request. */
interface BrowserRequest {
  readonly method: string
  readonly headers: { get(name: string): string | null }
}

export interface OriginPolicy {
  /**
   * A refusal for a cross-site request from an origin not allowed that would act with
   * ambient credentials (cookies, browser-held `authorization`) or change state (`POST`).
   */
  check(req: BrowserRequest): RtError | null
  /** CORS headers for the answer to this request: empty unless it comes from an allowed other origin. */
  headers(req: BrowserRequest): Record<string, string>
  /** The answer to `OPTIONS`. */
  preflight(req: BrowserRequest): HubPlainResponse
}

function exactOrigin(value: unknown): string {
  let parsed: URL | null = null
  try {
    parsed = typeof value === 'string' ? new URL(value) : null
  } catch {
    // reported below
  }
  if (parsed === null || parsed.origin === 'null' || parsed.origin !== value) {
    throw new RtError(
      'invalid_option',
      `createHub: origins must hold exact origins such as "https://app.example.com", got ${JSON.stringify(value)}`,
    )
  }
  return value
}

/** The host (and port) an `Origin` header names, or null when it names none. */
function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host
  } catch {
    return null
  }
}

const forbidden = () => new RtError('forbidden', 'this origin is not allowed', { status: 403 })

export function createOriginPolicy(option: OriginsOption | undefined): OriginPolicy {
  let allows: (origin: string) => boolean
  if (option === undefined) allows = () => false
  else if (typeof option === 'function') allows = option
  else if (Array.isArray(option)) {
    const list = new Set(option.map(exactOrigin))
    allows = (origin) => list.has(origin)
  } else throw new RtError('invalid_option', 'createHub: origins must be an array of origins or a function')

  /** The request's browser origin when it comes from another site, `'unknown'` when the site is unnamed. */
  function foreignOrigin(req: BrowserRequest): string | null {
    const origin = req.headers.get('origin')
    const site = req.headers.get('sec-fetch-site')
    // Set by the browser, not the page: what it says about the initiator is the truth.
    if (site === 'same-origin' || site === 'none') return null
    if (origin === null) return site === 'cross-site' || site === 'same-site' ? 'unknown' : null
    if (site === null && origin !== 'null' && hostOf(origin) === req.headers.get('host')) return null
    return origin
  }

  function allowed(origin: string): boolean {
    if (origin === 'unknown') return false
    try {
      return allows(origin) === true
    } catch {
      return false
    }
  }

  function cors(origin: string): Record<string, string> {
    return { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' }
  }

  return {
    check(req) {
      const origin = foreignOrigin(req)
      if (origin === null || allowed(origin)) return null
      const ambient = req.headers.get('cookie') !== null || req.headers.get('authorization') !== null
      return req.method !== 'GET' || ambient ? forbidden() : null
    },
    headers(req) {
      const origin = foreignOrigin(req)
      return origin !== null && allowed(origin) ? cors(origin) : {}
    },
    preflight(req) {
      const origin = foreignOrigin(req)
      const headers: Record<string, string> = { 'cache-control': 'no-store', allow: `${METHODS}, OPTIONS` }
      if (origin !== null && !allowed(origin)) {
        const error = forbidden()
        return {
          kind: 'response',
          status: error.status,
          headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify({ error: { code: error.code, message: error.message } }),
        }
      }
      if (origin !== null) {
        Object.assign(headers, cors(origin), {
          'access-control-allow-methods': METHODS,
          'access-control-max-age': PREFLIGHT_MAX_AGE,
          vary: 'Origin, Access-Control-Request-Headers',
        })
        const asked = req.headers.get('access-control-request-headers')
        if (asked !== null && asked.length <= MAX_HEADER_LIST && HEADER_LIST.test(asked)) {
          headers['access-control-allow-headers'] = asked
        }
      }
      return { kind: 'response', status: 204, headers, body: '' }
    },
  }
}
