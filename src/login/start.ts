import type { GatewayContext } from '../context.js';
import { randomToken } from '../crypto/tokens.js';
import { savePendingLogin } from '../oidc/transaction.js';
import { schoolLoginUrl } from '../school/login-request.js';
import type { School } from '../store/registry.js';
import type { AuthorizationRequest } from './complete.js';

/** Send the browser to the school's login with a signed request; the pending login waits for its assertion. */
export async function startSchoolLogin(ctx: GatewayContext, school: School, authz: AuthorizationRequest): Promise<string> {
  const gatewayNonce = randomToken();
  await savePendingLogin(ctx.kv, gatewayNonce, { ...authz, schoolIssuer: school.issuer, createdAt: ctx.clock.now() });
  return schoolLoginUrl(school, gatewayNonce, { issuer: ctx.issuer, clock: ctx.clock, key: ctx.signing.current });
}
