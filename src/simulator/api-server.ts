import express, { type NextFunction, type Request, type Response } from 'express';
import { apiRoutes, type RouteDeps } from './api-routes.js';
import { appCaller, verifyApiRequest, verifyUserToken } from './auth.js';
import { GATEWAY_PREFIX, type ForgeApps } from './forge-app.js';
import { errorBody } from './payloads.js';
import { rateLimitHeaders, scaledLimit, type SlidingWindowLimiter } from './rate-limit.js';
import type { ApiRequestRecord, SimulatorKnobs } from './types.js';

export interface ApiServerDeps extends RouteDeps {
  knobs: SimulatorKnobs;
  limiter: SlidingWindowLimiter;
  /** Seeded: decides which requests get faults. */
  rng: () => number;
  now: () => Date;
  requestLog: ApiRequestRecord[];
  requestLogLimit: number;
  /** Timers of hung requests, cleared on close. */
  hangTimers: Set<NodeJS.Timeout>;
  /** Forge system tokens (Bearer), checked beside Connect JWTs. */
  forgeApps?: ForgeApps;
}

/** Message Bitbucket sends with its 429 (the exact JSON body is UNCONFIRMED; the message is documented). */
export const RATE_LIMIT_MESSAGE = 'Rate limit for this resource has been exceeded';

const FAULTS: { status: number; message: string }[] = [
  { status: 500, message: 'Something went wrong' },
  { status: 502, message: 'Bad Gateway' },
  { status: 503, message: 'Service Unavailable' },
];

/**
 * api.bitbucket.org stand-in. Every request goes through: latency → JWT or user token → rate limit (only
 * /2.0/repositories/*, per clientKey or user) → seeded faults → the routes. Everything is logged.
 */
export function createApiApp(deps: ApiServerDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  const log = (
    req: Request,
    status: number,
    clientKey: string | null,
    fault?: ApiRequestRecord['fault'],
  ): void => {
    const [path, query = ''] = req.originalUrl.split('?') as [string, string?];
    const rec: ApiRequestRecord = {
      method: req.method,
      path,
      query,
      status,
      clientKey,
      at: deps.now().toISOString(),
    };
    if (fault) rec.fault = fault;
    deps.requestLog.push(rec);
    if (deps.requestLog.length > deps.requestLogLimit * 1.5)
      deps.requestLog.splice(0, deps.requestLog.length - deps.requestLogLimit);
  };

  app.use((req: Request, res: Response, next: NextFunction) => {
    res.on('finish', () => {
      if (!res.locals.hung)
        log(
          req,
          res.statusCode,
          (res.locals.clientKey as string | undefined) ?? null,
          res.locals.fault as ApiRequestRecord['fault'],
        );
    });
    const latency = deps.knobs.latencyMs;
    if (latency > 0) setTimeout(next, latency);
    else next();
  });

  // POST …/commits carries include/exclude as a form body; the qsh check may need it.
  app.use(express.urlencoded({ extended: false }));

  // A Forge app's apiBaseUrl is a gateway path (`/ex/bitbucket/<workspace uuid>`) in front of /2.0: the routes see
  // the path without it (next links keep it: they are built from the URL as requested).
  app.use((req: Request, res: Response, next: NextFunction) => {
    const gateway = GATEWAY_PREFIX.exec(req.url);
    if (gateway) {
      res.locals.gatewayWorkspace = gateway[1];
      req.url = gateway[2]!;
    }
    next();
  });

  app.use((req: Request, res: Response, next: NextFunction) => {
    const nowSec = Math.floor(deps.now().getTime() / 1000);
    const gatewayWorkspace = res.locals.gatewayWorkspace as string | undefined;
    // Bearer: a Forge system token (the app), else a user token (Forge's x-forge-oauth-user); otherwise Connect's
    // JWT of an installation, which the gateway does not take.
    const bearer = /^Bearer\s+(\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const system = bearer !== undefined ? deps.forgeApps?.verifyBearer(bearer, gatewayWorkspace) : undefined;
    const auth = system
      ? system.ok
        ? { ok: true as const, caller: appCaller(system.installation) }
        : { ok: false as const, message: 'Unauthorized', detail: system.detail }
      : /^Bearer\s/.test(req.headers.authorization ?? '')
        ? verifyUserToken(
            req.headers.authorization,
            deps.now().getTime(),
            deps.state.userTokens,
            gatewayWorkspace,
          )
        : gatewayWorkspace !== undefined
          ? { ok: false as const, message: 'Unauthorized', detail: 'The gateway takes Bearer tokens only.' }
          : connectCaller(req, nowSec);
    if (!auth.ok) {
      res.status(401).json(errorBody(auth.message, auth.detail));
      return;
    }
    const { caller } = auth;
    res.locals.caller = caller;
    res.locals.clientKey = caller.installation?.clientKey ?? null;
    if (req.path.startsWith('/2.0/repositories/')) {
      const k = deps.knobs;
      // Bitbucket scales limits and announces them (X-RateLimit-*) for access tokens and Forge apps (Bearer), never
      // for Connect JWT; `announceToConnect` lets tests treat Connect callers as token callers.
      const announced = (bearer !== undefined || k.announceToConnect) && k.rateLimitPerHour !== Infinity;
      const seats = k.paidSeats[caller.workspace.slug];
      const limit = announced && seats !== undefined ? scaledLimit(seats) : k.rateLimitPerHour;
      const key = `${caller.key}|repositories`;
      const admitted = deps.limiter.admit(key, deps.now().getTime(), limit, k.rateWindowMs);
      if (announced) res.set(rateLimitHeaders(limit, deps.limiter.admitted(key)));
      if (!admitted) {
        res.status(429).json(errorBody(RATE_LIMIT_MESSAGE));
        return;
      }
    }
    const r = deps.rng();
    const { faultRate, timeoutRate } = deps.knobs;
    if (r < faultRate) {
      const fault = FAULTS[Math.floor(deps.rng() * FAULTS.length)]!;
      res.locals.fault = 'error';
      res.status(fault.status).json(errorBody(fault.message));
      return;
    }
    if (r < faultRate + timeoutRate) {
      // Hang: never answer, then drop the connection, as an overloaded upstream would.
      res.locals.hung = true;
      log(req, 0, caller.installation?.clientKey ?? null, 'timeout');
      const timer = setTimeout(() => {
        deps.hangTimers.delete(timer);
        req.socket.destroy();
      }, deps.knobs.hangMs);
      deps.hangTimers.add(timer);
      return;
    }
    next();
  });

  const connectCaller = (req: Request, nowSec: number) => {
    const auth = verifyApiRequest({
      authorization: req.headers.authorization,
      method: req.method,
      originalUrl: req.originalUrl,
      body: req.body,
      nowSec,
      installationFor: (clientKey) => deps.state.installationByClientKey(clientKey),
    });
    return auth.ok ? { ok: true as const, caller: appCaller(auth.installation) } : auth;
  };

  app.use(apiRoutes(deps));

  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json(errorBody('Something went wrong', err.message));
  });
  return app;
}
