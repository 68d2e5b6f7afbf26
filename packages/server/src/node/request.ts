import type { IncomingMessage } from 'node:http'
import type { RtRequest } from '../index.js'

function headerGetter(req: IncomingMessage): RtRequest['headers'] {
  return {
    get(name) {
      const value = req.headers[name.toLowerCase()]
      if (value === undefined) return null
      return Array.isArray(value) ? value.join(', ') : value
    },
  }
}

/** Translates a Node request into the hub's framework-neutral request. */
export function fromNodeRequest(req: IncomingMessage & { originalUrl?: string }): RtRequest {
  // Express rewrites req.url under a mount path; only the query string matters to the hub.
  const path = req.originalUrl ?? req.url ?? '/'
  return { method: req.method ?? 'GET', url: new URL(path, 'http://localhost'), headers: headerGetter(req), raw: req }
}
