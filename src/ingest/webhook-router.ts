import express, { type Router } from 'express';
import { requireConnectJwt, type AuthDeps } from '../connect/auth';

export interface WebhookRoute {
  event: string;
  url: string;
}

/**
 * One route per descriptor webhook. Until live sync lands, a delivery is verified and acknowledged only.
 */
export function webhookRouter(deps: AuthDeps, routes: WebhookRoute[]): Router {
  const router = express.Router();
  for (const route of routes) {
    router.post(
      route.url,
      requireConnectJwt(deps, 'webhook'),
      express.json({ limit: '256kb' }),
      (_req, res) => {
        res.status(204).end();
      },
    );
  }
  return router;
}
