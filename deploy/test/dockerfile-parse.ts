/**
 * @module A small Dockerfile reader for static checks (no Docker engine needed): instructions with
 * their arguments (line continuations joined, comments dropped), grouped into build stages, and the
 * effective value of inherited settings (USER, HEALTHCHECK, ENTRYPOINT, CMD, ENV) of a stage that
 * is built `FROM` another stage.
 */

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, USER, … */
  readonly keyword: string;
  /** Everything after the keyword, continuations joined with single spaces. */
  readonly args: string;
  /** 1-based line where the instruction starts. */
  readonly line: number;
}

export interface Stage {
  /** `AS` name, or the stage's index as text when unnamed. */
  readonly name: string;
  /** Base image or stage name after ARG substitution of defaults. */
  readonly from: string;
  readonly instructions: readonly Instruction[];
}

/** Instructions of a Dockerfile in order (parser directives and comments dropped). */
export function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let joined = lines[i];
    if (/^\s*(#|$)/.test(joined)) continue;
    // A trailing backslash continues the instruction; comment lines inside it are skipped.
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      i++;
      if (/^\s*#/.test(lines[i])) continue;
      joined = `${joined.replace(/\\\s*$/, ' ')}${lines[i]}`;
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(joined);
    if (m) out.push({ keyword: m[1].toUpperCase(), args: m[2].replace(/\s+/g, ' ').trim(), line: start + 1 });
  }
  return out;
}

/** Stages of a Dockerfile; global ARG defaults (before the first FROM) are substituted in FROM. */
export function parseStages(text: string): Stage[] {
  const stages: { name: string; from: string; instructions: Instruction[] }[] = [];
  const globalArgs = new Map<string, string>();
  for (const ins of parseInstructions(text)) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      const from = m[1].replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_s, v: string) => globalArgs.get(v) ?? '');
      stages.push({ name: m[2] ?? String(stages.length), from, instructions: [] });
    } else if (stages.length === 0) {
      const m = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/.exec(`ARG ${ins.args}`);
      if (ins.keyword === 'ARG' && m) globalArgs.set(m[1], m[2]);
    } else {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return stages;
}

/** The stage chain from `stage` up through the stages it is built FROM (nearest first). */
export function lineage(stages: readonly Stage[], stage: Stage): Stage[] {
  const chain: Stage[] = [];
  let cur: Stage | undefined = stage;
  while (cur && !chain.includes(cur)) {
    chain.push(cur);
    const parent: string = cur.from;
    cur = stages.find((s) => s.name === parent);
  }
  return chain;
}

/** Arguments of the last `keyword` instruction in effect for `stage` (its own, else inherited). */
export function effective(stages: readonly Stage[], stage: Stage, keyword: string): string | undefined {
  for (const s of lineage(stages, stage)) {
    const found = s.instructions.filter((i) => i.keyword === keyword).at(-1);
    if (found) return found.args;
  }
  return undefined;
}

/** ENV variables in effect for `stage` (inherited ones overridden by the stage's own). */
export function effectiveEnv(stages: readonly Stage[], stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const s of lineage(stages, stage).reverse()) {
    for (const ins of s.instructions.filter((i) => i.keyword === 'ENV')) {
      for (const m of ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) env.set(m[1], m[2].replace(/^"|"$/g, ''));
    }
  }
  return env;
}
