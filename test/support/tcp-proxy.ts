import net from 'node:net'

/**
 * A TCP proxy in front of a real server (Redis in the fault tests) that can be taken down,
 * brought back and slowed, to make the faults a client meets in production: connections
 * refused, connections cut mid-command, replies that take hundreds of milliseconds.
 */
export interface TcpProxy {
  /** redis://127.0.0.1:<port of the proxy> */
  url: string
  /** Cuts every open connection and refuses new ones. */
  down(): void
  up(): void
  /** Holds every reply from the server this long before passing it on (0: none). */
  slow(ms: number): void
  /** Replies from the server passed on so far. */
  readonly replies: number
  close(): Promise<void>
}

export async function tcpProxy(target: { host: string; port: number }, options: { startDown?: boolean } = {}): Promise<TcpProxy> {
  let isUp = !options.startDown
  let delayMs = 0
  let replies = 0
  const sockets = new Set<net.Socket>()
  const track = (socket: net.Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  const server = net.createServer((client) => {
    track(client)
    if (!isUp) return void client.destroy()
    const upstream = net.connect(target.port, target.host)
    track(upstream)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    client.on('data', (chunk) => upstream.write(chunk))
    upstream.on('data', (chunk) => {
      const pass = () => {
        if (client.destroyed) return
        replies++
        client.write(chunk)
      }
      // Equal delays fire in the order they were set, so replies keep their order.
      if (delayMs > 0) setTimeout(pass, delayMs)
      else pass()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  const cut = () => {
    for (const socket of sockets) socket.destroy()
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    down() {
      isUp = false
      cut()
    },
    up() {
      isUp = true
    },
    slow(ms) {
      delayMs = ms
    },
    get replies() {
      return replies
    },
    close() {
      isUp = false
      cut()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
