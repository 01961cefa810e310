import { createRequire } from 'node:module';
import type * as SentryModule from '@sentry/node';
import type { Logger } from './logger';

const require = createRequire(import.meta.url);

export interface MonitoringOptions {
  sentryDsn?: string;
  environment: string;
  datadog: { enabled: boolean; agentHost?: string };
}

const SECRET_KEYS = /^(sharedsecret|authorization|jwt|token|password|cookie)$/i;

/** Replaces every value under a secret-looking key, at any depth. Exported for tests. */
export function scrubSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map(scrubSecrets) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.test(k) ? '[redacted]' : scrubSecrets(v);
    return out as T;
  }
  if (typeof value === 'string') return value.replace(/([?&]jwt=)[^&\s]+/g, '$1[redacted]') as T;
  return value;
}

/**
 * What the SDK may collect. Its defaults send request bodies (an install's `sharedSecret`, a webhook's authors and
 * emails), cookies, every header, the query string (`?jwt=`), the client's IP address and stack-frame local
 * variables: none of that leaves. Method, path and these few headers are enough to find a fault.
 */
const SAFE_HEADERS = ['content-type', 'content-length', 'user-agent', 'x-request-id', 'x-event-key'];
const DATA_COLLECTION: SentryModule.NodeOptions['dataCollection'] = {
  httpBodies: [],
  cookies: false,
  httpHeaders: { request: { allow: SAFE_HEADERS }, response: false },
  urlQueryParams: false,
  userInfo: false,
  stackFrameVariables: false,
  databaseQueryData: false,
  queues: false,
};

/**
 * The same rule applied to the finished event, whatever set it (an integration, a scope, a library): no body, no
 * cookies, no query string, only the safe headers. Exported for tests.
 */
export function dropRequestData(event: SentryModule.ErrorEvent): SentryModule.ErrorEvent {
  if (!event.request) return event;
  const {
    data: _data,
    cookies: _cookies,
    query_string: _query,
    env: _env,
    headers,
    url,
    ...rest
  } = event.request;
  const safeHeaders = Object.entries(headers ?? {}).filter(([name]) =>
    SAFE_HEADERS.includes(name.toLowerCase()),
  );
  return {
    ...event,
    request: { ...rest, url: url?.split('?')[0], headers: Object.fromEntries(safeHeaders) },
  };
}

/** Sentry once configured. Loaded only then: its instrumentation adds about 70 MB to every process. */
let sentryModule: typeof SentryModule | undefined;

/**
 * Starts Datadog APM and Sentry when configured; does nothing otherwise (neither is even loaded).
 * Call before the HTTP and database modules do real work so their instrumentation can attach.
 */
export async function initMonitoring(
  options: MonitoringOptions,
  logger: Logger,
): Promise<{ sentry: boolean; datadog: boolean }> {
  let datadog = false;
  if (options.datadog.enabled) {
    const tracer = require('dd-trace');
    tracer.init({
      hostname: options.datadog.agentHost,
      env: options.environment,
      service: 'tally',
      logInjection: true,
    });
    datadog = true;
  }
  let sentry = false;
  if (options.sentryDsn) {
    const Sentry = await import('@sentry/node');
    sentryModule = Sentry;
    Sentry.init({
      dsn: options.sentryDsn,
      environment: options.environment,
      dataCollection: DATA_COLLECTION,
      beforeSend: (event) => scrubSecrets(dropRequestData(event)),
      beforeBreadcrumb: (crumb) => scrubSecrets(crumb),
    });
    sentry = true;
  }
  logger.info({ sentry, datadog }, 'monitoring configured');
  return { sentry, datadog };
}

export function captureError(error: unknown): void {
  if (sentryModule?.getClient()) sentryModule.captureException(error);
}
