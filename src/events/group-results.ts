/**
 * @module Splitting a group's append (several concurrent ingest calls logged together) back into
 * what each call is answered: its own per-event results, how many of its users' lists are current,
 * and why lists were not updated, if they were not.
 */
import type { AppendResult } from '../store/event-log.js';
import { joinReasons, plainReason, type NotApplied } from './not-applied.js';
import type { IngestOutcome } from './online-updater.js';

/** What applying a group to the lists gave: the users written, or why nothing was. */
export type Applied = { readonly written: ReadonlySet<string> } | { readonly notApplied: NotApplied };

/** Results by user id, each user's in log order. */
export function groupByUser(results: readonly AppendResult[]): Map<string, AppendResult[]> {
  const byUser = new Map<string, AppendResult[]>();
  for (const r of results) {
    const list = byUser.get(r.event.userId);
    if (list) list.push(r);
    else byUser.set(r.event.userId, [r]);
  }
  return byUser;
}

/** One call's outcome: `results` are its slice of the group's results; `problems`, further reasons for `notApplied`. */
export function outcomeOf(results: readonly AppendResult[], target: { readonly version: number } | undefined, applied: Applied, problems: NotApplied | undefined): IngestOutcome {
  let outcome: IngestOutcome;
  if ('notApplied' in applied || !target) {
    outcome = { results, updatedUsers: 0, version: null, notApplied: 'notApplied' in applied ? applied.notApplied : plainReason('no published version is loaded') };
  } else {
    const users = new Set(results.map((r) => r.event.userId));
    let updated = 0;
    for (const u of users) if (applied.written.has(u)) updated++;
    outcome = { results, updatedUsers: updated, version: target.version };
  }
  if (problems === undefined) return outcome;
  return { ...outcome, notApplied: joinReasons(outcome.notApplied, problems) };
}
