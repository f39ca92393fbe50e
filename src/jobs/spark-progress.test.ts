import { describe, expect, it } from 'vitest';
import { parseSparkEvent, SparkOutputRelay } from './spark-progress.js';

const event = (e: Record<string, unknown>) => `RTREC_SPARK ${JSON.stringify(e)}`;

describe('parseSparkEvent', () => {
  it('reads event lines and ignores everything else', () => {
    expect(parseSparkEvent(event({ event: 'step', message: 'reading x', step: 'read' }))).toEqual({ event: 'step', message: 'reading x', step: 'read' });
    expect(parseSparkEvent('RTREC_SPARK {broken')).toBeNull();
    expect(parseSparkEvent('RTREC_SPARK {"event":"step"}')).toBeNull();
    expect(parseSparkEvent('26/11/27 07:17:00 WARN Utils: something')).toBeNull();
  });
});

describe('SparkOutputRelay', () => {
  it('shows steps and errors, hides warnings, keeps a tail and the job error', () => {
    const lines: string[] = [];
    const relay = new SparkOutputRelay({ log: (l) => lines.push(l), now: () => 0 });
    // Chunks split mid-line must be reassembled.
    relay.write('WARNING: Using incubator modules: jdk.incubator.vector\n26/11/27 07:17:00 WARN Utils: noi');
    relay.write(`se\n${event({ event: 'step', message: 'reading data' })}\n26/11/27 07:17:01 ERROR Executor: boom\n`);
    relay.write('train_als.py: error: input path does not exist: /x\n');
    relay.end();
    expect(lines).toEqual(['spark: reading data', 'spark: 26/11/27 07:17:01 ERROR Executor: boom']);
    expect(relay.jobError).toBe('input path does not exist: /x');
    expect(relay.tail()).toEqual([
      'WARNING: Using incubator modules: jdk.incubator.vector',
      '26/11/27 07:17:00 WARN Utils: noise',
      '26/11/27 07:17:01 ERROR Executor: boom',
      'train_als.py: error: input path does not exist: /x',
    ]);
  });

  it('without a terminal prints at most one stage line per 10 s', () => {
    const lines: string[] = [];
    let t = 0;
    const relay = new SparkOutputRelay({ log: (l) => lines.push(l), now: () => t });
    const stage = (done: number) => event({ event: 'stage', message: `stage 3: ${done}/4 tasks`, stage: 3, done, total: 4 });
    relay.write(`${stage(1)}\n`);
    t = 5_000;
    relay.write(`${stage(2)}\n`);
    t = 10_000;
    relay.write(`${stage(3)}\n`);
    expect(lines).toEqual(['spark: stage 3: 1/4 tasks', 'spark: stage 3: 3/4 tasks']);
  });

  it('on a terminal rewrites one status line and clears it before a log line', () => {
    const out: string[] = [];
    const relay = new SparkOutputRelay({ log: (l) => out.push(`log:${l}`), status: (s) => out.push(`status:${s}`) });
    relay.write(`${event({ event: 'stage', message: 'stage 1: 1/2 tasks' })}\n${event({ event: 'stage', message: 'stage 1: 2/2 tasks' })}\n`);
    relay.write(`${event({ event: 'step', message: 'writing' })}\n`);
    relay.end();
    expect(out).toEqual(['status:spark: stage 1: 1/2 tasks', 'status:spark: stage 1: 2/2 tasks', 'status:', 'log:spark: writing']);
  });

  it('collects exception lines, the first and the last three, without stack frames', () => {
    const relay = new SparkOutputRelay({ log: () => undefined });
    const lines = [
      '26/11/27 07:32:46 ERROR Executor: Exception in task 0.0 in stage 203.0 (TID 403)',
      'java.lang.StackOverflowError',
      '\tat java.base/java.io.ObjectInputStream.readObject(ObjectInputStream.java:1)',
      'Caused by: org.apache.spark.SparkException: Job 37 cancelled because SparkContext was shut down',
      'py4j.protocol.Py4JJavaError: An error occurred while calling o1.x.',
      'ValueError: bad',
      'pyspark.errors.exceptions.captured.AnalysisException: [X] y',
      'org.apache.spark.SparkException: last',
    ];
    for (const line of lines) relay.line(line);
    expect(relay.causes()).toEqual([
      'java.lang.StackOverflowError',
      'Caused by: org.apache.spark.SparkException: Job 37 cancelled because SparkContext was shut down',
      'py4j.protocol.Py4JJavaError: An error occurred while calling o1.x.',
      'ValueError: bad',
      'pyspark.errors.exceptions.captured.AnalysisException: [X] y',
      'org.apache.spark.SparkException: last',
    ]);
    relay.line('java.lang.OutOfMemoryError: Java heap space');
    expect(relay.causes()[0]).toBe('java.lang.StackOverflowError');
    expect(relay.causes().at(-1)).toBe('java.lang.OutOfMemoryError: Java heap space');
    expect(relay.causes()).toHaveLength(6);
    expect(relay.causes()).not.toContain('ValueError: bad');
  });

  it('keeps only the last 40 lines', () => {
    const relay = new SparkOutputRelay({ log: () => undefined });
    for (let i = 0; i < 50; i++) relay.line(`line ${i}`);
    expect(relay.tail()).toHaveLength(40);
    expect(relay.tail()[0]).toBe('line 10');
  });
});
