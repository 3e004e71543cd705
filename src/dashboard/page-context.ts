import type { Html } from '../http/html.ts';
import type { DashboardApi } from './api-client.ts';
import type { PageFrame } from './layout.ts';

/** What a page handler gets: the API, the session's CSRF token, and the request's query and params. */
export interface PageContext {
  api: DashboardApi;
  csrfToken: string;
  query: Record<string, string | undefined>;
  params: Record<string, string>;
}

export interface RenderedPage {
  title: string;
  section: PageFrame['section'];
  body: Html;
  /** 404 when the thing asked for does not exist. */
  status?: number;
}
