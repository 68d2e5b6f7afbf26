/**
 * The dev login: a signed cookie naming the user. No passwords; swap `readSession` for
 * your real authentication and keep the rest.
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const COOKIE = 'notif_session'
const MAX_AGE_S = 7 * 24 * 3600

export interface Session {
  readonly userId: string
  readonly name: string
}

function sign(value: string, secret: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url')
}

/** The `Set-Cookie` value for a session: `<payload>.<signature>`, HttpOnly and SameSite=Lax. */
export function sessionCookie(session: Session, secret: string, secure: boolean): string {
  const payload = Buffer.from(JSON.stringify({ u: session.userId, n: session.name })).toString('base64url')
  const value = `${payload}.${sign(payload, secret)}`
  return `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${MAX_AGE_S}${secure ? '; Secure' : ''}`
}

export function clearedCookie(): string {
  return `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`
}

/** The session in a `Cookie` header, or `null` when absent, tampered with or malformed. */
export function readSession(cookieHeader: string | null | undefined, secret: string): Session | null {
  if (!cookieHeader || cookieHeader.length > 8_192) return null
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== COOKIE) continue
    const [payload, signature] = part
      .slice(eq + 1)
      .trim()
      .split('.')
    if (payload === undefined || signature === undefined) return null
    const expected = Buffer.from(sign(payload, secret))
    const given = Buffer.from(signature)
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null
    try {
      const { u, n } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { u?: unknown; n?: unknown }
      if (typeof u !== 'string' || typeof n !== 'string') return null
      return { userId: u, name: n }
    } catch {
      return null
    }
  }
  return null
}
