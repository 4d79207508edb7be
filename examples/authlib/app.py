"""A publisher's relying party on Authlib, logging pupils in through the gateway.

A complete, minimal web app (the standard library's http.server): /login
sends the browser to the gateway (authorization code flow with PKCE S256,
state and nonce), /callback redeems the code at /token and validates the
id_token with Authlib, then shows the claims it received (as JSON).

Configuration (environment):
  ISSUER            the gateway's issuer, e.g. http://localhost:3000
  CLIENT_ID         your client_id
  CLIENT_SECRET     the secret, for client_secret_basic; or
  PRIVATE_KEY_FILE  a PEM private key (RSA, Authlib's default RS256) for private_key_jwt
  PORT              where this app listens (default 8000); register the redirect URI http://localhost:PORT/callback

Run: python3 examples/authlib/app.py (Debian: apt install python3-authlib python3-requests).
"""
import json
import os
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oidc.core import CodeIDToken

ISSUER = os.environ['ISSUER']
CLIENT_ID = os.environ['CLIENT_ID']
PORT = int(os.environ.get('PORT', '8000'))
# localhost, not 127.0.0.1: Authlib takes plain http only there (else https).
REDIRECT_URI = f'http://localhost:{PORT}/callback'

# Discovery: every endpoint and the signing keys come from the issuer.
METADATA = requests.get(f'{ISSUER}/.well-known/openid-configuration', timeout=10).json()
assert METADATA['issuer'] == ISSUER, 'discovery document of another issuer'


def session():
    """An OAuth2Session for one login, authenticating the client as registered."""
    if os.environ.get('PRIVATE_KEY_FILE'):
        with open(os.environ['PRIVATE_KEY_FILE']) as f:
            key = f.read()
        client = OAuth2Session(CLIENT_ID, key, scope='openid', redirect_uri=REDIRECT_URI,
                               token_endpoint_auth_method='private_key_jwt', code_challenge_method='S256')
        client.register_client_auth_method(PrivateKeyJWT(METADATA['token_endpoint']))
        return client
    return OAuth2Session(CLIENT_ID, os.environ['CLIENT_SECRET'], scope='openid', redirect_uri=REDIRECT_URI,
                         token_endpoint_auth_method='client_secret_basic', code_challenge_method='S256')


def validate_id_token(id_token, nonce):
    """Signature (the gateway's JWKS), iss, aud, exp, iat and nonce, by Authlib's OpenID Connect claims rules."""
    keys = JsonWebKey.import_key_set(requests.get(METADATA['jwks_uri'], timeout=10).json())
    claims = jwt.decode(id_token, keys, claims_cls=CodeIDToken,
                        claims_options={'iss': {'essential': True, 'value': ISSUER}},
                        claims_params={'nonce': nonce, 'client_id': CLIENT_ID})
    claims.validate(leeway=30)
    return dict(claims)


# Logins in progress, by state: the PKCE verifier and the nonce (one process; use your session store).
PENDING = {}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        if url.path == '/login':
            verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
            uri, state = session().create_authorization_url(
                METADATA['authorization_endpoint'], code_verifier=verifier, nonce=nonce)
            PENDING[state] = (verifier, nonce)
            self.send_response(302)
            self.send_header('Location', uri)
            self.end_headers()
        elif url.path == '/callback':
            state = dict(p.split('=', 1) for p in url.query.split('&') if '=' in p).get('state')
            verifier, nonce = PENDING.pop(state, (None, None))
            if verifier is None:
                return self.answer(400, {'error': 'no login in progress for this state'})
            try:
                # fetch_token reads code and state, or error and error_description, from the callback URL.
                token = session().fetch_token(METADATA['token_endpoint'], authorization_response=f'{REDIRECT_URI}?{url.query}',
                                              state=state, code_verifier=verifier)
            except OAuthError as err:
                return self.answer(400, {'error': err.error, 'error_description': err.description})
            self.answer(200, validate_id_token(token['id_token'], nonce))
        else:
            self.answer(404, {'error': 'not found'})

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == '__main__':
    server = ThreadingHTTPServer(('127.0.0.1', PORT), Handler)
    print(f'listening on http://127.0.0.1:{PORT} (log in at /login)', flush=True)
    server.serve_forever()
