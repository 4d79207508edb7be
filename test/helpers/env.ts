/**
 * Spread into a child process's environment to run it on the embedded
 * defaults whatever the parent has set (CI exports the service URLs): the
 * config reads an empty variable as unset.
 */
export const EMBEDDED_ENV = { REDIS_URL: '', DATABASE_URL: '', REDIS_SENTINELS: '', REDIS_SENTINEL_NAME: '', REDIS_CLUSTER_NODES: '' } as const;
