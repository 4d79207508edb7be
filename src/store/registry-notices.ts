import type { Config } from '../config.js';
import { openNotices } from './notices.js';

// "The registrations changed": published by the process that wrote them, heard
// by every gateway process, which then reloads its snapshot. A notice missed
// while disconnected is caught up by the reload after each (re)subscription,
// and any other lost notice by the periodic refresh.

export const REGISTRY_CHANGED = 'registry-changed';

export interface RegistryNotices {
  publish(): Promise<void>;
  close(): Promise<void>;
}

export function openRegistryNotices(config: Config, onNotice: () => void, onError: (err: unknown) => void): RegistryNotices {
  const notices = openNotices(config, REGISTRY_CHANGED, { onMessage: onNotice, onSubscribed: onNotice, onError });
  return { publish: () => notices.publish(String(Date.now())), close: () => notices.close() };
}
