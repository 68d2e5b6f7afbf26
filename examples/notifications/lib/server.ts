/**
 * The server side as the Next.js routes and pages see it: the app that `server/start.ts`
 * created (hub, service, sessions), and the user of the current request. Imports from
 * `server/` are types only, so the store, the MongoDB driver and the change stream stay
 * out of the Next.js bundle.
 * @module
 */
import { headers } from 'next/headers'
import type { NotificationsApp } from '../server/app'
import { AppError, errorResponse } from '../server/errors'
import type { User } from '../shared/types'
import { APP_KEY } from './app-key'

export function notifications(): NotificationsApp {
  const app = (globalThis as Record<symbol, NotificationsApp | undefined>)[APP_KEY]
  if (app === undefined) {
    throw new Error('the app is not running: start it with `npm start` (server/main.ts), not `next start`')
  }
  return app
}

/** The user of the request being rendered, or `null`. */
export async function currentUser(): Promise<User | null> {
  return notifications().user((await headers()).get('cookie'))
}

/** The user of a route handler's request; a 401 when there is none. */
export async function requireUser(request: Request): Promise<User> {
  const user = await notifications().user(request.headers.get('cookie'))
  if (user === null) throw new AppError('unauthorized', 'log in first')
  return user
}

/** Runs a route handler, answering an `AppError` with its status and anything else with a bare 500. */
export async function route(run: () => Promise<Response>): Promise<Response> {
  try {
    return await run()
  } catch (error) {
    return errorResponse(error, (e) => notifications().onError(e))
  }
}

/** A JSON body of at most 16 KiB, or a 400. */
export async function readJson(request: Request): Promise<unknown> {
  if (!(request.headers.get('content-type') ?? '').startsWith('application/json')) {
    throw new AppError('bad_request', 'send JSON (content-type: application/json)')
  }
  const text = await request.text()
  if (text.length > 16_384) throw new AppError('bad_request', 'request body is too large')
  try {
    return JSON.parse(text)
  } catch {
    throw new AppError('bad_request', 'unreadable request body')
  }
}
