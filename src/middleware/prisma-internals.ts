// Prisma's private extension list of a client (`client._extensions`, a MergedExtensionsList), read
// in this one place so that a Prisma upgrade that moves it fails in one place (its tests,
// test/middleware/prisma-internals.test.ts). Each reader decides what an unreadable list means.
// A leaf module: it imports nothing.

/** An extension as Prisma keeps it: the object given to `$extends`. */
export interface ExtensionArgs {
  name?: string
  query?: object
  result?: object
  model?: object
  client?: object
}

/** Prisma's extension list, as far as this project reads it. */
export interface ExtensionList {
  head?: ExtensionNode
  getAllQueryCallbacks?: (jsModelName: string, operation: string) => unknown
}
interface ExtensionNode {
  extension: ExtensionArgs
  previous?: ExtensionNode
}

/** The extension list of `client`; undefined when it cannot be read. */
export function extensionList(client: unknown): ExtensionList | undefined {
  const list = (client as { _extensions?: unknown } | null)?._extensions
  return list !== null && typeof list === 'object' ? (list as ExtensionList) : undefined
}

/**
 * The extensions of `client`, first applied first (the list is linked from the last applied);
 * undefined when the list cannot be read.
 */
export function extensionsOf(client: unknown): ExtensionArgs[] | undefined {
  const list = extensionList(client)
  if (list === undefined) return undefined
  const out: ExtensionArgs[] = []
  for (let node = list.head; node !== undefined; node = node.previous) out.push(node.extension)
  return out.reverse()
}
