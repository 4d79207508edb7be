// The gateway's endpoints towards upstream OpenID providers (docs/upstream-oidc.md).

/** The redirect URI every upstream provider registers for the gateway. */
export const CALLBACK_PATH = '/school/oidc/callback';
/** The public key of the gateway's private_key_jwt client authentication. */
export const CLIENT_JWKS_PATH = '/school/oidc/jwks.json';
