/**
 * The demo seed (`rs-cleanup emulator --seed demo`, `npm run emulator -- --seed
 * demo`): five user pools in two Regions with stable ids, four tenants'
 * resource servers in each, and app clients that still use some of their
 * scopes, so a dry-run shows servers it would delete and servers it skips
 * because they are in use. Everything is in the default account.
 */
import type { SeedRequest, SeedUserPool } from './types';

const API = 'https://api.example.com';
const TENANTS = 4;

function demoPool(number: number, region: string, name: string, clients: SeedUserPool['clients'] = []): SeedUserPool {
  return {
    id: `${region}_Demo${String(number).padStart(5, '0')}`,
    name,
    resourceServers: Array.from({ length: TENANTS }, (_, t) => {
      const tenant = `tenant-${String(t + 1).padStart(4, '0')}`;
      return {
        identifier: `${API}/${name}/${tenant}`,
        name: `${name} ${tenant}`,
        scopes: [
          { ScopeName: 'read', ScopeDescription: `read ${name} of ${tenant}` },
          { ScopeName: 'write', ScopeDescription: `write ${name} of ${tenant}` },
        ],
      };
    }),
    clients,
  };
}

export function demoSeed(): SeedRequest {
  return {
    userPools: [
      demoPool(1, 'us-east-1', 'orders', [
        { clientName: 'orders-portal', clientId: 'demoordersportal000000001', allowedOAuthScopes: [`${API}/orders/tenant-0001/read`, `${API}/orders/tenant-0002/write`] },
      ]),
      demoPool(2, 'us-east-1', 'billing', [{ clientName: 'billing-login', clientId: 'demobillinglogin000000002', allowedOAuthScopes: ['openid', 'email'] }]),
      demoPool(3, 'us-east-1', 'reports'),
      demoPool(4, 'eu-west-1', 'orders-eu', [
        { clientName: 'eu-reporting', clientId: 'demoeureporting0000000004', allowedOAuthScopes: ['openid', `${API}/orders-eu/tenant-0003/read`] },
      ]),
      demoPool(5, 'eu-west-1', 'billing-eu'),
    ],
  };
}
