/**
 * Checks on what clients (and other programs writing to MongoDB) send: bounded strings,
 * known levels and roles, no control characters.
 * @module
 */
import { LEVELS, type Level, type NotificationDoc, ROLES, type Role, type Target } from '../shared/types.js'
import { AppError } from './errors.js'

export const LIMITS = { title: 120, body: 1_000, ids: 100, id: 64 } as const

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/

/** A trimmed string of `min` to `max` characters without control characters (newlines allowed). */
export function text(value: unknown, name: string, min: number, max: number): string {
  if (typeof value !== 'string') throw new AppError('bad_request', `${name} must be a string`)
  const trimmed = value.trim()
  if (trimmed.length < min || trimmed.length > max) {
    throw new AppError('bad_request', `${name} must be ${min} to ${max} characters`)
  }
  if (CONTROL.test(trimmed)) throw new AppError('bad_request', `${name} has control characters`)
  return trimmed
}

/** An id: letters, digits, `-` and `_`. */
export function id(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    throw new AppError('bad_request', `${name} must be an id (letters, digits, - and _)`)
  }
  return value
}

export function level(value: unknown): Level {
  if (!LEVELS.includes(value as Level)) throw new AppError('bad_request', `level must be one of ${LEVELS.join(', ')}`)
  return value as Level
}

export function role(value: unknown): Role {
  if (!ROLES.includes(value as Role)) throw new AppError('bad_request', `role must be one of ${ROLES.join(', ')}`)
  return value as Role
}

export function target(value: unknown): Target {
  const given = (value ?? {}) as { userId?: unknown; role?: unknown }
  if (typeof value !== 'object' || value === null)
    throw new AppError('bad_request', 'to must be { userId } or { role }')
  if (given.userId !== undefined && given.role === undefined) return { userId: id(given.userId, 'to.userId') }
  if (given.role !== undefined && given.userId === undefined) return { role: role(given.role) }
  throw new AppError('bad_request', 'to must be { userId } or { role }')
}

/**
 * A stored document as a notification, or `null` when it is not one. Documents inserted
 * by other programs are checked like requests; an `_id` stands in for a missing `id`, the
 * change's time for a missing `createdAt`.
 */
export function storedNotification(doc: Record<string, unknown>, fallbackTime: number): NotificationDoc | null {
  try {
    const createdAt = typeof doc.createdAt === 'number' && Number.isFinite(doc.createdAt) ? doc.createdAt : fallbackTime
    return {
      id: id(doc.id ?? String(doc._id), 'id'),
      title: text(doc.title, 'title', 1, LIMITS.title),
      body: doc.body === undefined ? '' : text(doc.body, 'body', 0, LIMITS.body),
      level: doc.level === undefined ? 'info' : level(doc.level),
      to: target(doc.to),
      from: doc.from === undefined ? 'system' : text(doc.from, 'from', 1, LIMITS.id),
      createdAt,
    }
  } catch (error) {
    if (error instanceof AppError) return null
    throw error
  }
}
