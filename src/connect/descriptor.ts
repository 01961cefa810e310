import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface DescriptorWebhook {
  event: string;
  url: string;
}

export interface DescriptorTemplate {
  key: string;
  scopes: string[];
  modules: { webhooks?: DescriptorWebhook[] } & Record<string, unknown>;
}

/** The descriptor template at the repository root (ACE serves it with `{{localBaseUrl}}` filled in). */
export function readDescriptor(root = process.cwd()): DescriptorTemplate {
  return JSON.parse(readFileSync(path.join(root, 'atlassian-connect.json'), 'utf8')) as DescriptorTemplate;
}
