/**
 * Screenshots from browser tests: every run writes them to `e2e/.output/` (ignored by git);
 * `RT_UPDATE_SCREENSHOTS=1` also writes the committed copies shown in the READMEs and docs,
 * so a test run never leaves the working tree dirty.
 */
import { copyFile, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Page } from 'playwright-core'

export const OUTPUT = join(import.meta.dirname, '..', '.output')

const root = join(import.meta.dirname, '..', '..')

/**
 * Saves a screenshot of `page` as `e2e/.output/<name>.png`; with `RT_UPDATE_SCREENSHOTS=1`
 * also copies it to `committed` (a path from the repository root). Returns the output path.
 */
export async function saveScreenshot(page: Page, name: string, committed?: string): Promise<string> {
  await mkdir(OUTPUT, { recursive: true })
  const path = join(OUTPUT, `${name}.png`)
  await page.screenshot({ path })
  if (committed !== undefined && process.env.RT_UPDATE_SCREENSHOTS === '1') {
    const target = join(root, committed)
    await mkdir(dirname(target), { recursive: true })
    await copyFile(path, target)
  }
  return path
}
