/** The publisher-facing endpoints whose paths other modules name (discovery, the id_token's audience checks). */
export const TOKEN_PATH = '/token';
