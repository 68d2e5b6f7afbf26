/**
 * Docs that cannot rot: every ```ts / ```typescript / ```tsx block of README.md, docs/*.md
 * and the packages' READMEs is typechecked with strict `tsc` against the sources.
 *
 * Each block is its own module. Names the prose leaves to the reader (`sessionFrom`, `db`,
 * `app`, a `hub` made in an earlier block, ...) are declared in `e2e/docs-snippets/stubs.d.ts`;
 * add a declaration there when a new snippet needs one. A block that is deliberately a
 * fragment (a lone object literal, a signature) opts out with `fragment` in its info string
 * (```ts fragment); keep that rare.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'

interface Snippet {
  /** The Markdown file, from the repository root. */
  readonly doc: string
  /** Line of the opening fence in the Markdown file (1-based). */
  readonly line: number
  readonly code: string
  readonly tsx: boolean
}

const root = join(import.meta.dirname, '..')
const STUBS = join(root, 'e2e', 'docs-snippets', 'stubs.d.ts')
/** Checked blocks: these languages, unless the info string says `fragment`. */
const FENCE = /^```(ts|typescript|tsx)((?:[ \t][^\n]*)?)\n([\s\S]*?)^```[ \t]*$/gm

/** README.md, docs/*.md (new guides join by existing) and each package's README. */
function markdownFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`)
  const packages = readdirSync(join(root, 'packages'))
    .map((name) => `packages/${name}/README.md`)
    .filter((file) => existsSync(join(root, file)))
  return ['README.md', ...docs, ...packages]
}

function snippetsOf(doc: string): { checked: Snippet[]; fragments: number } {
  const text = readFileSync(join(root, doc), 'utf8')
  const checked: Snippet[] = []
  let fragments = 0
  for (const match of text.matchAll(FENCE)) {
    const [, lang, info = '', code = ''] = match
    if (/\bfragment\b/.test(info)) {
      fragments++
      continue
    }
    const line = text.slice(0, match.index).split('\n').length
    checked.push({ doc, line, code, tsx: lang === 'tsx' })
  }
  return { checked, fragments }
}

const docs = markdownFiles()
const snippets = docs.flatMap((doc) => snippetsOf(doc).checked)
const fragments = docs.reduce((sum, doc) => sum + snippetsOf(doc).fragments, 0)

/** Where each snippet is written for tsc: under node_modules so imports resolve as in an app. */
const workDir = join(root, 'node_modules', '.cache', 'rt-doc-snippets', String(process.pid))
const fileOf = (snippet: Snippet, index: number) =>
  join(workDir, `${snippet.doc.replace(/[^a-z0-9]+/gi, '_')}_L${snippet.line}_${index}.${snippet.tsx ? 'tsx' : 'ts'}`)

/** tsc diagnostics per snippet file, with the line shifted back to the Markdown file. */
const diagnostics = new Map<string, string[]>()

beforeAll(async () => {
  rmSync(workDir, { recursive: true, force: true })
  mkdirSync(workDir, { recursive: true })
  const files = snippets.map((snippet, index) => {
    const file = fileOf(snippet, index)
    // `export {}` makes every block a module, so its names do not clash with other blocks.
    writeFileSync(file, `${snippet.code}\nexport {}\n`)
    return file
  })
  const config = {
    extends: relative(workDir, join(root, 'tsconfig.base.json')),
    compilerOptions: { noEmit: true, jsx: 'react-jsx', noUnusedLocals: false, types: ['node'] },
    files: [STUBS, ...files],
  }
  writeFileSync(join(workDir, 'tsconfig.json'), JSON.stringify(config))
  const tsc = join(root, 'node_modules', '.bin', 'tsc')
  const output = await new Promise<string>((done) => {
    execFile(
      tsc,
      ['-p', workDir, '--pretty', 'false'],
      { cwd: root, maxBuffer: 16 * 1024 * 1024 },
      (_error, stdout, stderr) => done(stdout + stderr),
    )
  })
  const byFile = new Map(files.map((file, index) => [file, snippets[index] as Snippet]))
  for (const entry of output.split(/\n(?=\S)/)) {
    const match = /^(.+?)\((\d+),(\d+)\): (error .*)$/s.exec(entry.trim())
    if (match === null) {
      if (entry.trim() !== '') diagnostics.set('(tsc)', [...(diagnostics.get('(tsc)') ?? []), entry.trim()])
      continue
    }
    const [, file = '', line = '0', column = '0', message = ''] = match
    const absolute = join(root, file)
    const snippet = byFile.get(absolute)
    const key = snippet === undefined ? '(tsc)' : absolute
    const where = snippet === undefined ? file : `${snippet.doc}:${snippet.line + Number(line)}:${column}`
    diagnostics.set(key, [...(diagnostics.get(key) ?? []), `${where} ${message}`])
  }
  rmSync(workDir, { recursive: true, force: true })
}, 120_000)

describe('TypeScript blocks in the docs typecheck (strict)', () => {
  test('the docs have blocks to check, and few opt out as fragments', () => {
    expect(snippets.length).toBeGreaterThan(30)
    expect(fragments).toBeLessThanOrEqual(Math.ceil(snippets.length / 10))
  })

  test('tsc reports nothing outside the snippets (the stubs file included)', () => {
    expect(diagnostics.get('(tsc)') ?? []).toEqual([])
  })

  test.each(snippets.map((snippet, index) => ({ ...snippet, index, name: `${snippet.doc}:${snippet.line}` })))(
    '$name',
    (snippet) => {
      expect(diagnostics.get(fileOf(snippet, snippet.index)) ?? []).toEqual([])
    },
  )
})
