/**
 * `updateDescription` as a 5.0+ server writes it from its delta oplog entries: fields by path,
 * array elements by index, `truncatedArrays` for arrays a pipeline update shortened, and the
 * `disambiguatedPaths` a `showExpandedEvents` stream gets (6.1+).
 */
import { type Document, Int32 } from 'bson'
import { keyOf } from './values.js'

/** A path as components: field names, and array indexes as numbers. */
type Parts = readonly (string | number)[]

/** What an update changed, with the components of each path kept for disambiguation. */
export interface UpdateDelta {
  readonly description: Document
  /** `disambiguatedPaths`: paths with a numeric field name or a dotted one, component by component. */
  readonly disambiguatedPaths: Document
}

function isObject(value: unknown): value is Document {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype
}

function same(a: unknown, b: unknown): boolean {
  return keyOf(a) === keyOf(b)
}

class Builder {
  readonly updated: [Parts, unknown][] = []
  readonly removed: Parts[] = []
  readonly truncated: [Parts, number][] = []

  /** Element-wise diff of two arrays: new or changed elements by index, a shorter array truncated. */
  array(path: Parts, before: unknown[], after: unknown[]): void {
    if (after.length < before.length) this.truncated.push([path, after.length])
    for (let i = 0; i < after.length; i++) {
      if (i < before.length && same(before[i], after[i])) continue
      if (i < before.length && isObject(before[i]) && isObject(after[i])) {
        this.object([...path, i], before[i] as Document, after[i] as Document)
      } else {
        this.updated.push([[...path, i], after[i]])
      }
    }
  }

  /** Field-wise diff of two subdocuments, recursing into both kinds of containers. */
  object(path: Parts, before: Document, after: Document): void {
    for (const [key, value] of Object.entries(after)) {
      const old = before[key]
      if (!(key in before)) this.updated.push([[...path, key], value])
      else if (same(old, value)) continue
      else if (isObject(old) && isObject(value)) this.object([...path, key], old, value)
      else if (Array.isArray(old) && Array.isArray(value)) this.array([...path, key], old, value)
      else this.updated.push([[...path, key], value])
    }
    for (const key of Object.keys(before)) if (!(key in after)) this.removed.push([...path, key])
  }

  delta(): UpdateDelta {
    const updatedFields: Document = {}
    const disambiguatedPaths: Document = {}
    const note = (parts: Parts) => {
      const name = parts.join('.')
      if (parts.some((p) => typeof p === 'string' && (/^\d+$/.test(p) || p.includes('.')))) {
        disambiguatedPaths[name] = parts.map((p) => (typeof p === 'number' ? new Int32(p) : p))
      }
      return name
    }
    for (const [parts, value] of this.updated) updatedFields[note(parts)] = value
    return {
      description: {
        updatedFields,
        removedFields: this.removed.map(note),
        truncatedArrays: this.truncated.map(([parts, newSize]) => ({
          field: note(parts),
          newSize: new Int32(newSize),
        })),
      },
      disambiguatedPaths,
    }
  }
}

/** The components of a dotted path as they resolve in `doc` (numbers where an array is indexed). */
function resolve(doc: Document, path: string): Parts {
  const parts: (string | number)[] = []
  let value: unknown = doc
  for (const part of path.split('.')) {
    const index = Array.isArray(value) && /^\d+$/.test(part) ? Number(part) : undefined
    parts.push(index ?? part)
    value = value !== null && typeof value === 'object' ? (value as Document)[part] : undefined
  }
  return parts
}

/**
 * An operator update (`$set`, `$inc`, `$push`...): each modified path as the operator named it;
 * elements appended to an array come by index (`arr.2`), as in a delta oplog entry.
 */
export function operatorDelta(before: Document, after: Document, paths: readonly string[]): UpdateDelta {
  const builder = new Builder()
  for (const path of paths) {
    const parts = resolve(after, path)
    const old = valueAt(before, parts)
    const value = valueAt(after, parts)
    if (value === undefined) builder.removed.push(resolve(before, path))
    else if (
      Array.isArray(old) &&
      Array.isArray(value) &&
      value.length > old.length &&
      old.every((v, i) => same(v, value[i]))
    ) {
      for (let i = old.length; i < value.length; i++) builder.updated.push([[...parts, i], value[i]])
    } else builder.updated.push([parts, value])
  }
  return builder.delta()
}

/** A pipeline update or any whole-document change: the field-by-field diff of the two versions. */
export function documentDelta(before: Document, after: Document): UpdateDelta {
  const builder = new Builder()
  builder.object([], before, after)
  return builder.delta()
}

function valueAt(doc: Document, parts: Parts): unknown {
  let value: unknown = doc
  for (const part of parts) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Document)[part as string]
  }
  return value
}
