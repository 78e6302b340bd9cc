/**
 * Ids in AWS's formats: pool ids `<region>_<9 alphanumerics>`, 26-character
 * lowercase client ids, 51-character client secrets, and STS's temporary
 * credentials (ASIA... keys, 40-character secrets, long session tokens).
 * Drawn from a seeded PRNG so a test can make them reproducible (option idSeed).
 */
import { randomSeed, SeededRandom } from './random';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOWER_ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const BASE64 = `${ALPHANUMERIC}+/`;

export class IdGenerator {
  private readonly random: SeededRandom;

  constructor(seed: number = randomSeed()) {
    this.random = new SeededRandom(seed);
  }

  userPoolId(region: string): string {
    return `${region}_${this.random.string(ALPHANUMERIC, 9)}`;
  }

  clientId(): string {
    return this.random.string(LOWER_ALPHANUMERIC, 26);
  }

  clientSecret(): string {
    return this.random.string(LOWER_ALPHANUMERIC, 51);
  }

  sessionAccessKeyId(): string {
    return `ASIA${this.random.string(UPPER_ALPHANUMERIC, 16)}`;
  }

  secretAccessKey(): string {
    return this.random.string(BASE64, 40);
  }

  sessionToken(): string {
    return `IQoJb3JpZ2luX2Vj${this.random.string(BASE64, 280)}`;
  }
}
