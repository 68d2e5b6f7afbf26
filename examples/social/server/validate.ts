/**
 * Checks on what clients send: strings trimmed and bounded, ids and numbers well formed.
 * @module
 */
import { SocialError } from './errors.js'

/** A trimmed string of `min` to `max` characters, without control characters (newlines allowed). */
export function text(value: unknown, name: string, min: number, max: number): string {
  if (typeof value !== 'string') throw new SocialError('bad_request', `${name} must be a string`)
  const trimmed = value.trim()
  if (trimmed.length < min || trimmed.length > max) {
    throw new SocialError('bad_request', `${name} must be ${min} to ${max} characters`)
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(trimmed)) {
    throw new SocialError('bad_request', `${name} holds control characters`)
  }
  return trimmed
}

/** An id as the feed makes them: letters, digits, `-` and `_`, at most 64. */
export function id(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    throw new SocialError('bad_request', `${name} is not a valid id`)
  }
  return value
}

/** A whole number in [min, max]. */
export function int(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SocialError('bad_request', `${name} must be a whole number from ${min} to ${max}`)
  }
  return value
}

/** A user id from a display name: `Maya Chen` -> `maya-chen`. */
export function slug(name: string): string {
  const out = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
  if (out === '') throw new SocialError('bad_request', 'the name needs at least one letter or digit')
  return out
}
