/**
 * The `/_emulator/*` endpoints: reset, seed, state dump and load, run-time
 * config, stats, the clock. No authentication (a local test tool); JSON in and out.
 */
import type { EmulatorCore } from './core';
import { cognitoError } from './errors';

export interface ControlResponse {
  status: number;
  body: unknown;
}

export const CONTROL_PREFIX = '/_emulator/';

/** Throws CognitoError for bad input; the server renders it. */
export async function handleControl(core: EmulatorCore, method: string, path: string, body: () => unknown): Promise<ControlResponse> {
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /_emulator/health':
      return ok({ ok: true });
    case 'POST /_emulator/reset':
      core.reset();
      return ok({ ok: true });
    case 'POST /_emulator/seed':
      return ok(core.seed(body()));
    case 'GET /_emulator/state':
      return ok(core.dumpState());
    case 'POST /_emulator/state':
      core.loadState(body());
      return ok({ ok: true, userPools: core.model.poolCount });
    case 'POST /_emulator/state/save':
      return ok({ ok: true, path: await core.saveState() });
    case 'GET /_emulator/config':
      return ok(core.config.view());
    case 'POST /_emulator/config':
      core.applyConfig(body());
      return ok(core.config.view());
    case 'GET /_emulator/stats':
      return ok(core.stats.snapshot());
    case 'POST /_emulator/stats/reset':
      core.stats.reset();
      return ok({ ok: true });
    case 'GET /_emulator/clock':
      return ok(clockView(core.clock.now()));
    case 'POST /_emulator/clock':
      return ok(clockView(core.clock.advance(advanceSeconds(body()) * 1000)));
    default:
      return { status: 404, body: { __type: 'NotFound', message: `No control endpoint ${route}` } };
  }
}

const ok = (body: unknown): ControlResponse => ({ status: 200, body });

const clockView = (nowMs: number) => ({ nowMs, now: new Date(nowMs).toISOString() });

function advanceSeconds(body: unknown): number {
  const seconds = (body as { advanceSeconds?: unknown } | null)?.advanceSeconds;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw cognitoError('InvalidConfigException', 'POST /_emulator/clock needs {"advanceSeconds": N} with N >= 0 (the clock only moves forward)');
  }
  return seconds;
}
