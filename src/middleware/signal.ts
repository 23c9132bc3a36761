/**
 * A typed subscription: the one way the middleware's objects tell each other what happened (a
 * read completed or started, the database strained, a demand query settled). An object exposes
 * a `Signal` and others subscribe to it; nothing assigns another object's callback fields.
 */

export class Signal<T = void> {
  private listeners: ((value: T) => void)[] = []

  /** Calls `listener` with every value emitted from now on; returns the way to stop. */
  subscribe(listener: (value: T) => void): () => void {
    this.listeners = [...this.listeners, listener]
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener)
    }
  }

  /** Whether anyone listens (a signal nobody listens to may skip the work of measuring it). */
  get observed(): boolean {
    return this.listeners.length > 0
  }

  /** Tells every listener; a listener must not throw (each catches and reports its own errors). */
  emit(value: T): void {
    // The array is replaced, never changed, on subscribe: a listener added while emitting waits for the next value.
    const listeners = this.listeners
    for (let i = 0; i < listeners.length; i++) listeners[i](value)
  }
}
