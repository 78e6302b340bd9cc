/**
 * Reads a resource server's definition (the backup taken before deleting it)
 * from a recent listing of its pool: ListResourceServers returns 50 servers a
 * call, where DescribeResourceServer returns one.
 *
 * Why: both operations are limited to 5 calls/s per pool, like
 * DeleteResourceServer. With one Describe per item, a big pool's deletes can
 * go no faster than its describes, and every slot the describes lose (to
 * other pools sharing the account's read quota, to a throttled call) is a
 * delete slot lost: a 600-server pool got 4.8 deletes/s instead of 5. A
 * listing serves 50 items for one call.
 *
 * Freshness: a listing serves reads for `maxAgeMs` (default 10 s) after it
 * started, then the pool is listed again. A Describe-based backup is taken
 * before the item waits for its delete slot (up to several seconds in a busy
 * pool), so a listed backup is at most 10 s older than a described one would
 * be; both are what the server was shortly before its delete. A server the
 * listing does not show (created after it, or gone), and any listing error, is
 * read with DescribeResourceServer as before, so outcomes do not change:
 * ResourceNotFoundException still means already-absent or pool-not-found.
 *
 * A read waits only for the page that holds its server: a pool of 600 is 12
 * pages, 2.4 s at 5 calls/s, and its first deletes need not wait for all of them.
 */
import {
  DescribeResourceServerCommand,
  ListResourceServersCommand,
  type DescribeResourceServerCommandOutput,
  type ResourceServerType,
} from '@aws-sdk/client-cognito-identity-provider';
import { COGNITO_CALL_DEFAULTS } from '../common/options';
import { poolKey } from '../common/types';
import type { CallOptions, CognitoAccess, CognitoTarget } from './access';

export interface ServerReaderOptions {
  /** How long a listing serves reads, from when it started; 0 = always Describe. */
  maxAgeMs?: number;
  /** Servers the listings may hold in all; past it the oldest listings are dropped (their pools are listed again when read). */
  maxListedServers?: number;
  now?: () => number;
}

/** What a read returns: the definition, and the request that read it. */
export interface ServerRead {
  server: ResourceServerType | undefined;
  requestId: string | undefined;
  /** 'list' when a pool listing served it, 'describe' otherwise. */
  via: 'list' | 'describe';
}

/** A pool's listing, filled page by page: a read waits only for the page that holds its server. */
interface Listing {
  startedAt: number;
  /** Servers listed so far, each with the request that listed it. */
  servers: Map<string, { server: ResourceServerType; requestId: string | undefined }>;
  /** 'listing' while pages come; 'done' once the last came; 'failed' when a page could not be read. */
  state: 'listing' | 'done' | 'failed';
  /** Resolves when the next page came (or the listing ended). */
  changed: Promise<void>;
}

const MAX_PAGE = 50;

export class ResourceServerReader {
  /** Oldest first (a Map keeps insertion order). */
  private readonly listings = new Map<string, Listing>();
  /** Servers held by the listings in `listings`. */
  private listed = 0;
  private readonly maxAgeMs: number;
  private readonly maxListed: number;
  private readonly now: () => number;

  constructor(
    private readonly cognito: CognitoAccess,
    options: ServerReaderOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? COGNITO_CALL_DEFAULTS.listingMaxAgeMs;
    this.maxListed = options.maxListedServers ?? COGNITO_CALL_DEFAULTS.listingMaxServers;
    this.now = options.now ?? Date.now;
  }

  /**
   * The server's definition from a listing of its pool younger than maxAgeMs,
   * or from DescribeResourceServer (whose errors are thrown as they come).
   */
  async read(target: CognitoTarget & { userPoolId: string }, identifier: string, options: CallOptions = {}): Promise<ServerRead> {
    if (this.maxAgeMs > 0) {
      const listing = this.listing(target, options);
      for (;;) {
        const listed = listing.servers.get(identifier);
        if (listed) return { server: listed.server, requestId: listed.requestId, via: 'list' };
        if (listing.state !== 'listing') break;
        await whileNotAborted(listing.changed, options.signal);
      }
    }
    const described: DescribeResourceServerCommandOutput = await this.cognito.call(
      'UserPoolResourceRead',
      target,
      (client) => client.send(new DescribeResourceServerCommand({ UserPoolId: target.userPoolId, Identifier: identifier })),
      options,
    );
    return { server: described.ResourceServer, requestId: described.$metadata.requestId, via: 'describe' };
  }

  /** The pool's listing, started now unless one younger than maxAgeMs exists (one at a time per pool). */
  private listing(target: CognitoTarget & { userPoolId: string }, options: CallOptions): Listing {
    const key = poolKey(target.userPoolId, target.accountId);
    const now = this.now();
    const current = this.listings.get(key);
    if (current && current.state !== 'failed' && now - current.startedAt <= this.maxAgeMs) return current;
    this.forgetOld(now);
    this.drop(key, current);
    const listing: Listing = { startedAt: now, servers: new Map(), state: 'listing', changed: Promise.resolve() };
    this.listings.set(key, listing);
    void this.list(target, key, listing, options).catch(() => {
      // A failed listing is not kept: the next read lists again, and the reads waiting on it describe.
      listing.state = 'failed';
      this.drop(key, listing);
    });
    return listing;
  }

  /** Forgets the pool's listing, if it is still this one (reads already waiting on it keep it). */
  private drop(key: string, listing: Listing | undefined): void {
    if (!listing || this.listings.get(key) !== listing) return;
    this.listings.delete(key);
    this.listed -= listing.servers.size;
  }

  /**
   * Keeps the listings' memory flat: a run over thousands of pools whose items
   * come more than 10 s apart lists each pool for one item, and held them all
   * (80,000 servers, some 50 MB, at 300 items/s over 4,000 pools). The oldest go first.
   */
  private dropOldestOver(limit: number, keep: Listing): void {
    for (const [key, listing] of this.listings) {
      if (this.listed <= limit) return;
      if (listing !== keep) this.drop(key, listing);
    }
  }

  private async list(target: CognitoTarget & { userPoolId: string }, key: string, listing: Listing, options: CallOptions): Promise<void> {
    let pageCame = () => {};
    const nextPage = () => (listing.changed = new Promise<void>((resolve) => (pageCame = resolve)));
    nextPage();
    let nextToken: string | undefined;
    // The listing serves every run's reads of the pool: it waits for no single run's pause.
    const { signal: _signal, ...shared } = options;
    try {
      do {
        const page = await this.cognito.call(
          'UserPoolResourceRead',
          target,
          (client) => client.send(new ListResourceServersCommand({ UserPoolId: target.userPoolId, MaxResults: MAX_PAGE, NextToken: nextToken })),
          shared,
        );
        const held = this.listings.get(key) === listing;
        for (const server of page.ResourceServers ?? []) {
          if (!server.Identifier) continue;
          if (held && !listing.servers.has(server.Identifier)) this.listed += 1;
          listing.servers.set(server.Identifier, { server, requestId: page.$metadata.requestId });
        }
        if (held) this.dropOldestOver(this.maxListed, listing);
        nextToken = page.NextToken;
        if (!nextToken) listing.state = 'done';
        const came = pageCame;
        if (nextToken) nextPage();
        came();
      } while (nextToken);
    } catch (err) {
      listing.state = 'failed';
      pageCame();
      throw err;
    }
  }

  private forgetOld(now: number): void {
    for (const [key, listing] of this.listings) if (now - listing.startedAt > this.maxAgeMs) this.drop(key, listing);
  }
}

/** `promise`, or the signal's reason as soon as it aborts (the promise goes on for whoever else waits on it). */
function whileNotAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (err: unknown) => (signal.removeEventListener('abort', onAbort), reject(err)),
    );
  });
}
