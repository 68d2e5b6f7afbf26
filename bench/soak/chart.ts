/** A plain SVG line chart for the soak report: one x axis (minutes), several series. */

export interface Series {
  readonly name: string
  readonly values: readonly number[]
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd']

export function lineChart(title: string, xs: readonly number[], series: readonly Series[]): string {
  const width = 640
  const height = 320
  const left = 56
  const right = 16
  const top = 36
  const bottom = 40
  const xMax = Math.max(...xs, 1e-9)
  const yMax = Math.max(...series.flatMap((s) => s.values), 1) * 1.1
  const x = (v: number) => left + (v / xMax) * (width - left - right)
  const y = (v: number) => height - bottom - (v / yMax) * (height - top - bottom)
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax)
  const grid = ticks
    .map(
      (v) =>
        `<line x1="${left}" x2="${width - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>` +
        `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(0)}</text>`,
    )
    .join('')
  const xTicks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (f) =>
        `<text x="${x(f * xMax).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle">${(f * xMax).toFixed(1)}</text>`,
    )
    .join('')
  const lines = series
    .map((s, i) => {
      const points = s.values.map((v, k) => `${x(xs[k] ?? 0).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
      const color = COLORS[i % COLORS.length]
      return (
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/>` +
        `<text x="${left + 10 + i * 200}" y="${top - 8}" fill="${color}">${s.name}</text>`
      )
    })
    .join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<title>${title}</title>
<text x="${left}" y="16" font-weight="bold">${title}</text>${grid}${xTicks}
<text x="${(left + width - right) / 2}" y="${height - 6}" text-anchor="middle">minutes</text>${lines}
</svg>
`
}
