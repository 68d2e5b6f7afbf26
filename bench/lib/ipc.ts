/** Request/response over a child process's IPC channel, matched by a reply field. */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export type Message = Record<string, unknown> & { cmd?: string }

export function spawnTs(file: string, args: string[] = [], execArgv: string[] = []): ChildProcess {
  return fork(fileURLToPath(new URL(`../${file}`, import.meta.url)), args, {
    execArgv: ['--import', 'tsx', '--conditions=@rt/source', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

export function next<T extends Message>(child: ChildProcess, key: string, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`no "${key}" reply within ${timeoutMs} ms`))
    }, timeoutMs)
    const onMessage = (message: Message) => {
      if (!(key in message)) return
      done()
      resolve(message as T)
    }
    const onExit = (code: number | null) => {
      done()
      reject(new Error(`child exited (${code}) while waiting for "${key}"`))
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

export async function ask<T extends Message>(child: ChildProcess, message: Message, key: string, timeoutMs?: number) {
  const reply = next<T>(child, key, timeoutMs)
  child.send(message)
  return reply
}

/** Replies to parent requests; `handlers[cmd]` returns the reply. */
export function serve(handlers: Record<string, (message: Message) => Message | Promise<Message>>): void {
  process.on('message', async (message: Message) => {
    const handler = message.cmd === undefined ? undefined : handlers[message.cmd]
    if (handler === undefined) return
    try {
      process.send?.(await handler(message))
    } catch (error) {
      process.send?.({ error: String(error) })
    }
  })
}
