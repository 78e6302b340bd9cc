/**
 * A small typed client for the emulator's `/_emulator/*` endpoints, for tests
 * and benchmarks (in-process or against `npm run emulator`).
 */
import type {
  EmulatorConfig,
  EmulatorConfigPatch,
  EmulatorState,
  EmulatorStats,
  SeedRequest,
  SeedResult,
} from './types';

export interface ClockView {
  /** Epoch milliseconds on the emulator's clock. */
  nowMs: number;
  /** The same, ISO 8601. */
  now: string;
}

export class EmulatorControlError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(`${type}: ${message}`);
    this.name = 'EmulatorControlError';
  }
}

export class EmulatorControl {
  private readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** Clears pools, servers, clients, stats and quota windows; keeps the config. */
  async reset(): Promise<void> {
    await this.call('POST', '/_emulator/reset', {});
  }

  /** Creates pools (explicit or generated) without rate quotas; all or nothing. */
  seed(body: SeedRequest): Promise<SeedResult> {
    return this.call('POST', '/_emulator/seed', body);
  }

  state(): Promise<EmulatorState> {
    return this.call('GET', '/_emulator/state');
  }

  /** Replaces the whole state with a dump from state(). */
  async loadState(state: EmulatorState): Promise<void> {
    await this.call('POST', '/_emulator/state', state);
  }

  /** Writes the state file the emulator was started with. */
  async saveState(): Promise<string> {
    return (await this.call<{ path: string }>('POST', '/_emulator/state/save', {})).path;
  }

  config(): Promise<EmulatorConfig> {
    return this.call('GET', '/_emulator/config');
  }

  /** Applies a patch and returns the resulting config. */
  setConfig(patch: EmulatorConfigPatch): Promise<EmulatorConfig> {
    return this.call('POST', '/_emulator/config', patch);
  }

  stats(): Promise<EmulatorStats> {
    return this.call('GET', '/_emulator/stats');
  }

  async resetStats(): Promise<void> {
    await this.call('POST', '/_emulator/stats/reset', {});
  }

  /** The emulator's clock (quota windows, stats, expiry of temporary credentials). */
  clock(): Promise<ClockView> {
    return this.call('GET', '/_emulator/clock');
  }

  /** Moves the emulator's clock forward, e.g. past the expiry of AssumeRole credentials. */
  advanceClock(seconds: number): Promise<ClockView> {
    return this.call('POST', '/_emulator/clock', { advanceSeconds: seconds });
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed: unknown = text === '' ? {} : JSON.parse(text);
    if (!response.ok) {
      const error = parsed as { __type?: string; message?: string };
      throw new EmulatorControlError(response.status, error.__type ?? 'Error', error.message ?? text);
    }
    return parsed as T;
  }
}
