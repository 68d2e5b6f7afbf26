/**
 * A round avatar with the user's initials, coloured from their name, and an online dot.
 * @module
 */
const COLOURS = ['#0f766e', '#7c3aed', '#c2410c', '#2563eb', '#be185d', '#4d7c0f', '#b45309', '#0369a1']

function colour(name: string): string {
  let hash = 0
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0
  return COLOURS[hash % COLOURS.length] as string
}

export function Avatar({ name, online, size = 40 }: { name: string; online?: boolean; size?: number }) {
  const initials = name
    .split(/\s+/)
    .map((part) => part[0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase()
  return (
    <span className="avatar" style={{ background: colour(name), width: size, height: size, fontSize: size * 0.4 }}>
      {initials}
      {online !== undefined && <span className={online ? 'dot online' : 'dot'} />}
    </span>
  )
}
