import type { Express, Router } from 'express';

/** `method /path` of every route of a router and its sub-routers, in OpenAPI's `{param}` form. */
export function routesOf(router: Router): string[] {
  type Layer = {
    route?: { path: string; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
  };
  const out: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods))
          out.push(`${method} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((router as unknown as { stack: Layer[] }).stack);
  return out;
}

/**
 * `METHOD /path` (upper-case method) of every route an Express app serves under a prefix: routes declared with a
 * path under it, in the app or in routers mounted at the root, and every route of routers mounted at the prefix.
 */
export function appRoutesUnder(app: Express, prefix: string): string[] {
  type Layer = {
    route?: { path: string; methods: Record<string, boolean> };
    regexp?: RegExp & { fast_slash?: boolean };
    handle?: { stack?: Layer[] };
  };
  const out: string[] = [];
  const walk = (stack: Layer[], mount: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = `${mount}${layer.route.path}`;
        if (path.startsWith(`${prefix}/`))
          for (const method of Object.keys(layer.route.methods))
            out.push(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) {
        if (layer.regexp?.fast_slash) walk(layer.handle.stack, mount);
        else if (mount === '' && layer.regexp?.test(prefix)) walk(layer.handle.stack, prefix);
      }
    }
  };
  walk((app as unknown as { _router: { stack: Layer[] } })._router.stack, '');
  return out;
}

/** `METHOD /path` of every operation of an OpenAPI document. */
export function operationsOf(doc: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((k) => k !== 'parameters')
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
}
