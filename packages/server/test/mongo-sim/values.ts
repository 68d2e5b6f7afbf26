import { type Document, deserialize, EJSON, ObjectId, serialize } from 'bson'

/** A deep copy that keeps BSON types (ObjectId, Timestamp, Long...). */
export function clone<T extends Document>(doc: T): T {
  return deserialize(serialize(doc)) as T
}

/** Whether two documents are the same BSON, field order included. */
export function sameBson(a: Document, b: Document): boolean {
  return Buffer.from(serialize(a)).equals(Buffer.from(serialize(b)))
}

/** A string identifying a value for equality, as an index key compares it. */
export function keyOf(value: unknown): string {
  if (value === undefined || value === null) return 'null'
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return `n${value}`
    case 'boolean':
      return `b${value}`
    case 'bigint':
      return `n${value}`
  }
  if (value instanceof Date) return `d${value.getTime()}`
  if (value instanceof ObjectId) return `o${value.toHexString()}`
  return EJSON.stringify(value as Document, { relaxed: false })
}

/** The value at a dotted path (`undefined` when absent). */
export function getPath(doc: Document, path: string): unknown {
  let value: unknown = doc
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Document)[part]
  }
  return value
}

/** Sets a dotted path, creating plain objects on the way. */
export function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.')
  let target: Document = doc
  for (const part of parts.slice(0, -1)) {
    if (target[part] === null || typeof target[part] !== 'object') target[part] = {}
    target = target[part] as Document
  }
  target[parts[parts.length - 1]!] = value
}

/** A plain object whose keys are operators (`{ $gt: 1 }`), as opposed to a value. */
export function isOperatorObject(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  if (Object.getPrototypeOf(value) !== Object.prototype) return false
  const keys = Object.keys(value)
  return keys.length > 0 && keys.every((k) => k.startsWith('$'))
}
