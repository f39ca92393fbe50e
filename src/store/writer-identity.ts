/**
 * @module Who is writing a version, and whether that writer is known to be gone. A publish
 * records its host, pid and pid namespace; another process may conclude at once that a silent
 * writer crashed only when it can see that writer's processes: same host name AND same pid
 * namespace. Containers can share a host name without sharing pids (host networking, several
 * containers of one pod), and there the pid says nothing; the heartbeat timeout decides instead.
 */
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export interface WriterIdentity {
  readonly host: string;
  readonly pid: number;
  /** The pid namespace (Linux: the /proc/self/ns/pid link, e.g. "pid:[4026531836]"), when known. */
  readonly pidNamespace?: string;
}

let own: WriterIdentity | undefined;

/** This process as a writer. */
export function ownWriterIdentity(): WriterIdentity {
  if (!own) {
    let pidNamespace: string | undefined;
    try {
      pidNamespace = readlinkSync('/proc/self/ns/pid');
    } catch {
      // Not Linux, or /proc not mounted: only the heartbeat tells.
    }
    own = { host: hostname(), pid: process.pid, ...(pidNamespace === undefined ? {} : { pidNamespace }) };
  }
  return own;
}

/**
 * True when `writer` is known to be gone (its process no longer exists), false when it is known
 * alive or is this process, undefined when this process cannot see it (the caller then goes by
 * the heartbeat). `alive` probes a pid of this process's namespace.
 */
export function writerGone(writer: WriterIdentity, self: WriterIdentity, alive: (pid: number) => boolean): boolean | undefined {
  if (writer.host !== self.host || writer.pidNamespace === undefined || writer.pidNamespace !== self.pidNamespace) return undefined;
  if (writer.pid === self.pid) return false;
  return !alive(writer.pid);
}
