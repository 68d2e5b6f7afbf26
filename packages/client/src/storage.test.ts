import { afterEach, expect, test } from 'vitest'
import { openStore, storeKey } from './storage.js'

/** A Web Storage over a Map, standing in for the browser's. */
class MemoryStorage {
  readonly map = new Map<string, string>()
  get length() {
    return this.map.size
  }
  clear() {
    this.map.clear()
  }
  getItem(key: string) {
    return this.map.get(key) ?? null
  }
  key(index: number) {
    return [...this.map.keys()][index] ?? null
  }
  removeItem(key: string) {
    this.map.delete(key)
  }
  setItem(key: string, value: string) {
    this.map.set(key, value)
  }
}

const globals = globalThis as { sessionStorage?: unknown; localStorage?: unknown }
afterEach(() => {
  delete globals.sessionStorage
  delete globals.localStorage
})

test('reads and writes the storage it was asked for', () => {
  const session = new MemoryStorage()
  const local = new MemoryStorage()
  globals.sessionStorage = session
  globals.localStorage = local
  openStore('session')?.set('k', 'v1')
  openStore('local')?.set('k', 'v2')
  expect(session.getItem('k')).toBe('v1')
  expect(local.getItem('k')).toBe('v2')
  expect(openStore('session')?.get('k')).toBe('v1')
  expect(openStore('session')?.get('missing')).toBeUndefined()
})

test('no storage, or persist off: nothing to open', () => {
  expect(openStore('session')).toBeUndefined()
  globals.sessionStorage = new MemoryStorage()
  expect(openStore(false)).toBeUndefined()
  expect(openStore(undefined)).toBeUndefined()
})

test('a storage that throws (private mode, quota, sandbox) is a no-op', () => {
  const broken = new MemoryStorage()
  broken.setItem = () => {
    throw new DOMException('quota', 'QuotaExceededError')
  }
  broken.getItem = () => {
    throw new DOMException('denied', 'SecurityError')
  }
  globals.sessionStorage = broken
  const store = openStore('session')
  expect(() => store?.set('k', 'v')).not.toThrow()
  expect(store?.get('k')).toBeUndefined()
  Object.defineProperty(globalThis, 'localStorage', {
    configurable: true,
    get() {
      throw new DOMException('denied', 'SecurityError')
    },
  })
  expect(openStore('local')).toBeUndefined()
})

test('the key depends on the URL and the set of topics, not their order', () => {
  const url = new URL('https://app.test/events')
  expect(storeKey(url, ['b', 'a'])).toBe(storeKey(url, ['a', 'b']))
  expect(storeKey(url, ['a'])).not.toBe(storeKey(url, ['a', 'b']))
  expect(storeKey(new URL('https://other.test/events'), ['a'])).not.toBe(storeKey(url, ['a']))
})
