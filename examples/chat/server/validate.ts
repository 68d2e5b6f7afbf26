/**
 * Checks on what clients send: every string trimmed and bounded, every number finite.
 * @module
 */
import { ChatError } from './errors.js'

/** A trimmed string of `min` to `max` characters, without control characters. */
export function text(value: unknown, name: string, min: number, max: number): string {
  if (typeof value !== 'string') throw new ChatError('bad_request', `${name} must be a string`)
  const trimmed = value.trim()
  if (trimmed.length < min || trimmed.length > max) {
    throw new ChatError('bad_request', `${name} must be ${min} to ${max} characters`)
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(trimmed)) {
    throw new ChatError('bad_request', `${name} holds control characters`)
  }
  return trimmed
}

/** An id as the chat makes them: letters, digits, `-` and `_`, at most 64. */
export function id(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    throw new ChatError('bad_request', `${name} is not a valid id`)
  }
  return value
}

/** A whole number in [min, max]; `fallback` when absent. */
export function int(value: unknown, name: string, min: number, max: number, fallback?: number): number {
  if ((value === undefined || value === '') && fallback !== undefined) return fallback
  const n = typeof value === 'string' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ChatError('bad_request', `${name} must be a whole number from ${min} to ${max}`)
  }
  return n
}

/** A user id from a display name: `Alice Smith` -> `alice-smith`. */
export function slug(name: string): string {
  const out = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
  if (out === '') throw new ChatError('bad_request', 'the name needs at least one letter or digit')
  return out
}
