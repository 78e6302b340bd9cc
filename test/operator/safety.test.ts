/**
 * Safety rails of `run`, end to end, the CLI run in-process (cli/main.ts
 * runCli): the dependency check (--in-use), protected pools and identifiers,
 * --max-deletes, the confirmation without a terminal, --verify, and a double
 * start that attaches to the running workflow. The typed confirmation runs
 * the real binary in a pseudo-terminal.
 */
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { DEFAULT_TEST_CREDENTIALS } from '../../emulator';
import { csvInput, readJsonLines, readManifestCsv, seedPools, type CleanupEnv } from '../helpers/cleanup-env';
import { runCliInTerminal } from '../helpers/processes';
import { waitFor, withTimeout } from '../helpers/wait-for';
import { pauseSignal, resumeSignal } from '../../workflows/cleanup';
import { useCliSuite, cliInProcess, startCliInProcess } from './helpers';

describe('safety rails', () => {
  let env: CleanupEnv;
  let cliEnv: NodeJS.ProcessEnv;
  useCliSuite((suite) => ({ env, cliEnv } = suite));

  /** Pool with s0 used by one client, s1 used by nobody, s2 used by two clients. */
  async function seedWithClients(prefix: string) {
    const { userPools, items } = seedPools(prefix, 1, 3);
    const [s0, , s2] = userPools[0]!.resourceServers;
    await env.emulator.control.seed({
      userPools: [{
        ...userPools[0]!,
        clients: [
          { clientName: 'web', allowedOAuthScopes: [`${s0!.identifier}/read`, 'openid'] },
          { clientName: 'mobile', allowedOAuthScopes: [`${s2!.identifier}/read`] },
          { clientName: 'batch', allowedOAuthScopes: [`${s2!.identifier}/read`] },
          { clientName: 'unrelated', allowedOAuthScopes: ['email'] },
        ],
      }],
    });
    return { items, source: await env.inputFile(`${prefix}.csv`, csvInput(items)) };
  }

  it('skips servers whose scopes app clients use, naming the clients; deletes the rest', async () => {
    const { items, source } = await seedWithClients('InUseSkip');

    const result = await cliInProcess(['run', '--input', source.path, '--execute', '--yes', '--json', '--audit-dir', env.auditDir], cliEnv);

    expect(result.code).toBe(4); // finished, some skipped
    const summary = JSON.parse(result.stdout);
    expect(summary.counts).toMatchObject({ deleted: 1, 'skipped-in-use': 2 });
    expect(summary.inUse).toBe(2);
    const stats = await env.emulator.control.stats();
    expect(stats.deletes.map((d) => d.identifier)).toEqual([items[1]!.identifier]);
    const skipped = await readManifestCsv(path.join(summary.manifestDir, 'skipped-in-use.csv'));
    const reasons = Object.fromEntries(skipped.map((row) => [row.identifier, row.reason]));
    expect(reasons[items[0]!.identifier]).toMatch(/^used by app clients: web \(\w+\)$/);
    expect(reasons[items[2]!.identifier]).toMatch(/mobile \(\w+\), batch \(\w+\)|batch \(\w+\), mobile \(\w+\)/);
    // The check reads clients within the UserPoolClientRead quota and reads each client once.
    expect(stats.operations.DescribeUserPoolClient).toEqual({ ok: 4 });
  });

  it('--in-use fail refuses the run before any delete; --in-use delete deletes and names the clients in the audit', async () => {
    const { source } = await seedWithClients('InUseFail');
    const refused = await cliInProcess(['run', '--input', source.path, '--execute', '--yes', '--in-use', 'fail', '--json', '--audit-dir', env.auditDir], cliEnv);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout)).toMatchObject({ status: 'refused', stopReason: expect.stringMatching(/^refused: 2 resource servers are used by app clients/) });
    expect((await env.emulator.control.stats()).deletes).toEqual([]);

    const deleted = await cliInProcess(['run', '--input', source.path, '--execute', '--yes', '--in-use', 'delete', '--json', '--id', 'in-use-delete', '--audit-dir', env.auditDir], cliEnv);
    expect(deleted.code).toBe(0);
    const summary = JSON.parse(deleted.stdout);
    expect(summary.counts.deleted).toBe(3);
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile);
    const named = audit.filter((r) => r.event === 'attempt' && r.outcome === 'deleted' && r.inUseBy);
    expect(named).toHaveLength(2);
  });

  it('fails the run before any delete, saying why, when the dependency check is denied', async () => {
    const { source } = await seedWithClients('InUseDenied');
    await env.emulator.control.setConfig({
      policies: { [DEFAULT_TEST_CREDENTIALS.accessKeyId]: { deny: ['ListUserPoolClients'] } },
    });
    try {
      const result = await cliInProcess(['run', '--input', source.path, '--execute', '--yes', '--audit-dir', env.auditDir], cliEnv);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/failed: dependency check: ListUserPoolClients on us-east-1_InUseDenied0 failed with AccessDeniedException/);
      expect(result.stderr).toContain('the worker needs cognito-idp:ListUserPoolClients');
      expect((await env.emulator.control.stats()).deletes).toEqual([]);
    } finally {
      await env.emulator.control.setConfig({ policies: {} });
    }
  });

  it('never deletes protected pools or identifiers, even when listed', async () => {
    const { userPools, items } = seedPools('Prot', 3, 3);
    await env.emulator.control.seed({ userPools });
    const protectFile = path.join(env.tmpDir, 'protected.txt');
    await writeFile(protectFile, `# production pool\n${userPools[0]!.id}\n`);
    const source = await env.inputFile('prot.csv', csvInput(items));

    const result = await cliInProcess(
      ['run', '--input', source.path, '--execute', '--yes', '--json', '--protect-file', protectFile, '--audit-dir', env.auditDir],
      { ...cliEnv, RS_CLEANUP_PROTECTED: `${userPools[1]!.id},*/s0;*,*/p2/s1` },
    );

    expect(result.code).toBe(4);
    const summary = JSON.parse(result.stdout);
    // pool 0 whole (3), pool 1 s0 (1), pool 2 s1 (1)
    expect(summary.counts).toMatchObject({ 'skipped-protected': 5, deleted: 4 });
    const deleted = new Set((await env.emulator.control.stats()).deletes.map((d) => d.identifier));
    const kept = items.filter((i) => !deleted.has(i.identifier)).map((i) => i.identifier).sort();
    expect(kept).toEqual([
      ...userPools[0]!.resourceServers.map((s) => s.identifier),
      userPools[1]!.resourceServers[0]!.identifier,
      userPools[2]!.resourceServers[1]!.identifier,
    ].sort());
    const state = await env.emulator.control.state();
    expect(state.userPools[0]!.resourceServers).toHaveLength(3);
  });

  it('refuses to start above --max-deletes, and refuses --execute without a terminal unless --yes', async () => {
    const { userPools, items } = seedPools('Cap', 1, 5);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('cap.csv', csvInput(items));

    const capped = await cliInProcess(['run', '--input', source.path, '--execute', '--yes', '--max-deletes', '3'], cliEnv);
    expect(capped.code).toBe(2);
    expect(capped.stderr).toContain('5 resource servers would be deleted, more than --max-deletes 3');

    const unconfirmed = await cliInProcess(['run', '--input', source.path, '--execute'], cliEnv);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('standard input is not a terminal');

    expect((await env.emulator.control.stats()).operations).toEqual({});
    // No workflow was started under the ID `run` would have used.
    const wouldBeId = `rs-cleanup-${source.sha256!.slice(0, 12)}-execute`;
    await expect(env.client.workflow.getHandle(wouldBeId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);

    // The workflow enforces the cap too (a schedule has no CLI in front of it).
    const summary = await env.run({ source, execute: true, maxDeletes: 4 });
    expect(summary.status).toBe('refused');
    expect(summary.stopReason).toContain('would delete 5 resource servers, more than the limit of 4');
    expect((await env.emulator.control.stats()).deletes).toEqual([]);
  });

  it('in a terminal, --execute goes on only when the operator types the number of servers', async () => {
    const { userPools, items } = seedPools('Typed', 1, 3);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('typed.csv', csvInput(items));
    const args = ['run', '--input', source.path, '--execute', '--audit-dir', env.auditDir];

    const mistyped = await runCliInTerminal(args, cliEnv, '2');
    expect(mistyped.stdout).toContain('Type 3 to go on');
    expect(mistyped.code).toBe(2);
    expect(mistyped.stdout).toContain("confirmation '2' does not match 3; nothing was deleted");
    expect((await env.emulator.control.stats()).operations).toEqual({});

    // Ctrl-C at the prompt: one line, exit 2, nothing deleted.
    const interrupted = await runCliInTerminal(args, cliEnv, '\x03');
    expect(interrupted.code).toBe(2);
    expect(interrupted.stdout).toContain('rs-cleanup: interrupted at the confirmation (Ctrl-C): nothing was deleted');
    expect(interrupted.stdout).not.toMatch(/\n\s+at /); // no stack trace
    expect((await env.emulator.control.stats()).operations).toEqual({});

    const typed = await runCliInTerminal(args, cliEnv, '3');
    expect(typed.code).toBe(0);
    expect((await env.emulator.control.stats()).deletes).toHaveLength(3);
  });

  it('--verify reads the server again and fails a delete that did not stick as still-present', async () => {
    const { userPools, items } = seedPools('Verify', 1, 3);
    await env.emulator.control.seed({ userPools });
    await env.emulator.control.setConfig({
      faults: { failNext: [{ operation: 'DeleteResourceServer', count: 1, error: 'AcknowledgeWithoutApplying' }] },
    });
    const source = await env.inputFile('verify.csv', csvInput(items));

    const summary = await env.run({ source, execute: true, verify: true, limits: { window: 1 } });

    expect(summary.counts).toMatchObject({ deleted: 2, failed: 1 });
    const failed = await readManifestCsv(path.join(summary.manifestDir!, 'failed.csv'));
    expect(failed[0]).toMatchObject({ identifier: items[0]!.identifier, reason: 'still-present', errorCode: 'StillPresent' });
    const deleted = await readManifestCsv(path.join(summary.manifestDir!, 'deleted.csv'));
    expect(deleted.every((row) => row.reason === 'verified absent after delete')).toBe(true);
  });

  it('a second start of the same offboarding attaches to the running workflow: one run', { timeout: 600_000 }, async () => {
    const { userPools, items } = seedPools('Twice', 2, 5);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('twice.csv', csvInput(items));
    // Slow by configuration (10 items at 0.5/s), and held paused below.
    const args = ['run', '--input', source.path, '--execute', '--yes', '--json', '--rate', '0.5', '--pool-rate', '0.5', '--audit-dir', env.auditDir];
    const workflowId = `rs-cleanup-${source.sha256!.slice(0, 12)}-execute`;

    // The first start's run is held paused, so the second start finds it running however slow the machine.
    const first = startCliInProcess(args, cliEnv);
    const handle = env.client.workflow.getHandle(workflowId);
    await waitFor(async () => (await handle.describe().catch(() => undefined))?.status.name, (s) => s === 'RUNNING', 'the first run to start', 300_000);
    await handle.signal(pauseSignal);
    const second = startCliInProcess(args, cliEnv);
    const outputs = () => `first: ${first.stderr()}\nsecond: ${second.stderr()}`;
    await withTimeout(second.stderrMatches(/Attached to the run already going/), 300_000, 'the second start to attach', outputs);
    await handle.signal(resumeSignal);
    const [firstResult, secondResult] = await withTimeout(Promise.all([first.done, second.done]), 300_000, 'both starts to end', outputs);

    expect(firstResult.code, firstResult.stderr).toBe(0);
    expect(secondResult.code, secondResult.stderr).toBe(0);
    expect(firstResult.stderr).not.toContain('Attached');
    const a = JSON.parse(firstResult.stdout);
    const b = JSON.parse(secondResult.stdout);
    expect(a.workflowId).toBe(workflowId);
    expect(b.workflowId).toBe(a.workflowId);
    expect(b.runDir).toBe(a.runDir);
    const runs = await env.client.workflow.count(`WorkflowId = '${a.workflowId}'`);
    expect(runs.count).toBe(1);
    expect((await env.emulator.control.stats()).deletes).toHaveLength(items.length);
  });
});
