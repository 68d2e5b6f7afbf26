/**
 * The demo's one page: plain HTML and the browser's native `EventSource`, no build step
 * and no client library, to show that the wire protocol stands on its own.
 */
export function page(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rt demo</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  #state { display: inline-block; padding: 0.1rem 0.6rem; border-radius: 1rem; background: #ddd; }
  #state[data-state="open"] { background: #c8f0c8; }
  #state[data-state="connecting"] { background: #f6e7b0; }
  #state[data-state="closed"] { background: #f3c0c0; }
  ol { padding-left: 0; list-style: none; font-family: ui-monospace, monospace; font-size: 13px; }
  li { padding: 0.15rem 0; border-bottom: 1px solid #eee; }
  .control { color: #666; }
</style>
</head>
<body>
<h1>rt demo</h1>
<p>A ticker published by the server every second on topic <code>ticker</code>, received with
<code>new EventSource('/events?topics=ticker')</code>. Stop the server and start it again:
the page reconnects on its own.</p>
<p>Connection: <span id="state" data-state="connecting">connecting</span></p>
<p>Last tick: <strong id="last">-</strong></p>
<ol id="log"></ol>
<script>
  const state = document.getElementById('state')
  const last = document.getElementById('last')
  const log = document.getElementById('log')
  const setState = (value) => { state.textContent = value; state.dataset.state = value }
  const show = (text, className) => {
    const item = document.createElement('li')
    item.textContent = text
    if (className) item.className = className
    log.prepend(item)
    while (log.children.length > 20) log.lastChild.remove()
  }

  const source = new EventSource('/events?topics=ticker')
  source.onopen = () => setState('open')
  source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting')
  source.addEventListener('tick', (event) => {
    const { data } = JSON.parse(event.data)
    last.textContent = '#' + data.n + ' at ' + data.time
    show('tick #' + data.n + '  ' + data.time + '  id=' + event.lastEventId)
  })
  for (const type of ['rt.connected', 'rt.reset', 'rt.closing']) {
    source.addEventListener(type, (event) => show(type + ' ' + event.data, 'control'))
  }
</script>
</body>
</html>
`
}
