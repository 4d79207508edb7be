// Shared by the baseline server and its client, which run in different processes.
export const CLIENT_ID = 'bench-client';
/** Never contacted: the client takes the code from the Location header. */
export const REDIRECT_URI = 'http://127.0.0.1:1/cb';
/** The one account every benchmark login signs in as. */
export const ACCOUNT_ID = 'pupil-1';
