/**
 * The connection's state, always visible: live, connecting, reconnecting, or offline
 * (the stream resumes where it stopped once the network is back).
 * @module
 */
import { useEffect, useState } from 'react'
import { useConnectionState } from './realtime.js'

function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine)
  useEffect(() => {
    const update = () => setOnline(navigator.onLine)
    window.addEventListener('online', update)
    window.addEventListener('offline', update)
    return () => {
      window.removeEventListener('online', update)
      window.removeEventListener('offline', update)
    }
  }, [])
  return online
}

export function ConnectionBadge() {
  const state = useConnectionState()
  const online = useOnline()
  const [label, kind] =
    !online && state !== 'open'
      ? ['Offline · will resume', 'offline']
      : state === 'open'
        ? ['Live', 'open']
        : state === 'reconnecting'
          ? ['Reconnecting…', 'reconnecting']
          : state === 'unauthorized'
            ? ['Signed out', 'offline']
            : state === 'closed'
              ? ['Disconnected', 'offline']
              : ['Connecting…', 'reconnecting']
  return (
    <span className={`connection ${kind}`} data-connection={state} data-network={online ? 'online' : 'offline'}>
      <span className="pulse" />
      {label}
    </span>
  )
}
