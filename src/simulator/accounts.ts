import { braced, isoMicros, sha256Hex, unitHash, uuidFrom } from './util.js';

export interface AccountEmail {
  email: string;
  is_primary: boolean;
  is_confirmed: boolean;
}

/** A Bitbucket user account. Bitbucket exposes no emails in user objects (GDPR). */
export interface Account {
  /** Braced: `{…}`. */
  uuid: string;
  account_id: string;
  display_name: string;
  nickname: string;
  created_on: string;
  emails: AccountEmail[];
  /** How the account came to be; not part of any payload. */
  origin: 'email-rule' | 'explicit' | 'shadow';
}

export interface AddUserInput {
  display_name: string;
  emails: string[];
  account_id?: string;
  uuid?: string;
  nickname?: string;
}

/** Share of distinct commit emails that belong to a Bitbucket account. */
export const ACCOUNT_SHARE = 0.7;

const BOT_EMAIL = /\[bot\]|^(no-?reply|bot)@/i;

/**
 * All Bitbucket accounts (global, like bitbucket.org's). Commit authors map to accounts by a
 * deterministic rule on the email: bots never, otherwise a stable hash puts ~70% of distinct
 * emails on an account. `add()` overrides the rule for the given emails.
 */
export class AccountRegistry {
  private readonly byEmailMap = new Map<string, Account | null>();
  private readonly byIdMap = new Map<string, Account>();
  private readonly byUuidMap = new Map<string, Account>();
  private readonly byNameMap = new Map<string, Account>();

  constructor(private readonly seed: string) {}

  /** Account for a commit author email (null = no account), creating it on first sight. */
  observe(name: string, email: string): Account | null {
    const key = email.trim().toLowerCase();
    const known = this.byEmailMap.get(key);
    if (known !== undefined) return known;
    const hasAccount = !BOT_EMAIL.test(key) && unitHash(`${this.seed}:account:${key}`) < ACCOUNT_SHARE;
    const account = hasAccount ? this.create(`email:${key}`, name, [key], 'email-rule') : null;
    this.byEmailMap.set(key, account);
    return account;
  }

  /** Same as observe() without a known name: the local part stands in as the display name. */
  byEmail(email: string): Account | null {
    return this.observe(email.split('@')[0] ?? email, email);
  }

  /** An explicit account; its emails now map to it whatever the rule said. */
  add(input: AddUserInput): Account {
    const emails = input.emails.map((e) => e.trim().toLowerCase());
    const seedKey = `explicit:${input.account_id ?? input.uuid ?? emails.join(',') ?? input.display_name}`;
    const account = this.create(seedKey, input.display_name, emails, 'explicit', input);
    for (const email of emails) this.byEmailMap.set(email, account);
    return account;
  }

  /** Makes an email have no account (e.g. to model an unverified address). */
  setNoAccount(email: string): void {
    this.byEmailMap.set(email.trim().toLowerCase(), null);
  }

  /**
   * The account a person acts as where Bitbucket always needs one (pull request authors,
   * approvers): their email's account, else an account with the same display name, else an
   * account that exists but does not own that email (an unverified commit email).
   */
  personFor(name: string, email: string): Account {
    const byEmail = this.observe(name, email);
    if (byEmail) return byEmail;
    const byName = this.byNameMap.get(name.trim().toLowerCase());
    if (byName) return byName;
    return this.create(`shadow:${name.trim().toLowerCase()}`, name, [], 'shadow');
  }

  /** Lookup by account_id or `{uuid}` (braces optional, as /2.0/users/{selected_user} accepts). */
  get(idOrUuid: string): Account | undefined {
    const direct = this.byIdMap.get(idOrUuid);
    if (direct) return direct;
    const bare = idOrUuid.replace(/^\{|\}$/g, '').toLowerCase();
    return this.byUuidMap.get(`{${bare}}`);
  }

  list(): Account[] {
    return [...this.byIdMap.values()];
  }

  private create(
    seedKey: string,
    name: string,
    emails: string[],
    origin: Account['origin'],
    explicit?: AddUserInput,
  ): Account {
    const existing = this.byUuidMap.get(braced(explicit?.uuid ?? uuidFrom(`${this.seed}:${seedKey}`)));
    if (existing && !explicit) return existing;
    const h = sha256Hex(`${this.seed}:${seedKey}`);
    // Accounts were created sometime 2010–2020; stable per account.
    const createdMs = Date.UTC(2010, 0, 1) + Math.floor(unitHash(`created:${h}`) * 10 * 365 * 86_400_000);
    const account: Account = {
      uuid: braced(explicit?.uuid ?? uuidFrom(`${this.seed}:${seedKey}`)).toLowerCase(),
      account_id: explicit?.account_id ?? h.slice(0, 24),
      display_name: name,
      nickname: explicit?.nickname ?? name,
      created_on: isoMicros(createdMs, h),
      emails: emails.map((email, i) => ({ email, is_primary: i === 0, is_confirmed: true })),
      origin,
    };
    if (existing) {
      this.byIdMap.delete(existing.account_id);
    }
    this.byIdMap.set(account.account_id, account);
    this.byUuidMap.set(account.uuid, account);
    const nameKey = name.trim().toLowerCase();
    if (origin !== 'shadow' && !this.byNameMap.has(nameKey)) this.byNameMap.set(nameKey, account);
    return account;
  }
}
