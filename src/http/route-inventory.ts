import type { FastifyInstance } from 'fastify';

/** A route as registered, for the check that the OpenAPI document lists every one. */
export interface RegisteredRoute {
  method: string;
  url: string;
  hidden: boolean;
}

const inventories = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Starts recording the routes registered on `app` from now on (call before any route). */
export function recordRoutes(app: FastifyInstance): void {
  const routes: RegisteredRoute[] = [];
  inventories.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      routes.push({ method, url: route.url, hidden: route.schema?.hide === true });
    }
  });
}

export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return inventories.get(app) ?? [];
}
