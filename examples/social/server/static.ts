/**
 * Serves the built UI from a folder: files by path (never outside the folder), and
 * `index.html` for every other GET, so the app's own routes load on refresh.
 * @module
 */
import { readFile, stat } from 'node:fs/promises'
import { extname, join, resolve, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
}

export interface StaticFile {
  readonly body: Buffer
  readonly type: string
  readonly cache: string
}

export function staticFiles(root: string): (urlPath: string) => Promise<StaticFile> {
  const base = resolve(root)
  const index = async (): Promise<StaticFile> => ({
    body: await readFile(join(base, 'index.html')),
    type: TYPES['.html'] as string,
    cache: 'no-cache',
  })
  return async (urlPath) => {
    let path: string
    try {
      path = decodeURIComponent(urlPath.split('?')[0] ?? '/')
    } catch {
      return index()
    }
    const file = resolve(base, `.${path}`)
    if (!file.startsWith(base + sep) || path.includes('\0')) return index()
    const found = await stat(file).catch(() => null)
    if (found === null || !found.isFile()) return index()
    const type = TYPES[extname(file)] ?? 'application/octet-stream'
    // Vite's assets carry a content hash in their names: cache them for good.
    const cache = path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'
    return { body: await readFile(file), type, cache }
  }
}
