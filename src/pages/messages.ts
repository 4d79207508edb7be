import { ASSERTION_CODES, OAUTH_CODES, type AssertionCode, type OAuthCode, type PageCode, type SharedCode } from '../errors.js';
import type { Message } from './page.js';

// What a pupil, parent or teacher reads. No technical detail: the error code
// at the bottom of the page is what a helpdesk needs.

const LOGIN_FAILED: Message = {
  nl: { title: 'Inloggen is niet gelukt', body: 'Het inloggen bij je school kon niet worden gecontroleerd. Ga terug naar het lesmateriaal en probeer het opnieuw.' },
  en: { title: 'Login failed', body: 'The login at your school could not be verified. Go back to the learning material and try again.' },
};

export const LOGGED_OUT: Message = {
  nl: { title: 'Je bent uitgelogd', body: 'Je bent uitgelogd bij de inlogdienst. Sluit de browser als je klaar bent op een gedeelde computer.' },
  en: { title: 'You are logged out', body: 'You are logged out of the login service. Close the browser when you are done on a shared computer.' },
};

/** GET /logout, and a logout POST that did not come from the gateway's own page: ask first. */
export const CONFIRM_LOGOUT: Message & { readonly button: { readonly nl: string; readonly en: string } } = {
  nl: { title: 'Uitloggen?', body: 'Wil je uitloggen bij de inlogdienst? Doe dat op een gedeelde computer als je klaar bent.' },
  en: { title: 'Log out?', body: 'Do you want to log out of the login service? On a shared computer, do so when you are done.' },
  button: { nl: 'Uitloggen', en: 'Log out' },
};

const INVALID_REQUEST: Message = {
  nl: { title: 'Ongeldig verzoek', body: 'Het lesmateriaal stuurde een verzoek dat niet klopt. Probeer het opnieuw vanuit het lesmateriaal.' },
  en: { title: 'Invalid request', body: 'The learning material sent a request that is not valid. Try again from the learning material.' },
};

/** One message for each of several codes, typed by those codes. */
const each = <C extends string>(codes: readonly C[], message: Message) => Object.fromEntries(codes.map((c) => [c, message])) as Record<C, Message>;

/** Every code a page can show: a typo or a new code without a text fails the type check. */
export type PageMessageCode = PageCode | SharedCode | OAuthCode;

const MESSAGES = {
  // An OAuth error shown as a page (the client's redirect URI was not verified yet): the request was at fault.
  ...each<OAuthCode>(OAUTH_CODES, INVALID_REQUEST),
  // Assertion failures share one text; the code at the bottom tells the helpdesk which check failed.
  ...each<AssertionCode>(ASSERTION_CODES, LOGIN_FAILED),
  unknown_client_or_redirect_uri: {
    nl: { title: 'Onbekend lesmateriaal', body: 'Dit lesmateriaal is niet bekend bij de inlogdienst, of het stuurde een ongeldig terugkeeradres. Neem contact op met de uitgever.' },
    en: { title: 'Unknown learning material', body: 'This learning material is not known to the login service, or it sent an invalid return address. Please contact the publisher.' },
  },
  school_required: {
    nl: { title: 'School niet gevonden', body: 'We weten niet bij welke school je hoort. Start het lesmateriaal via de omgeving van je school.' },
    en: { title: 'School not found', body: 'We do not know which school you belong to. Open the learning material from your school environment.' },
  },
  login_expired: {
    nl: { title: 'Inloggen duurde te lang', body: 'Het inloggen is verlopen of al gebruikt. Ga terug naar het lesmateriaal en begin opnieuw.' },
    en: { title: 'Login expired', body: 'The login has expired or was already used. Go back to the learning material and start again.' },
  },
  login_other_browser: {
    nl: { title: 'Inloggen in een andere browser', body: 'Dit inloggen is in een andere browser of ander venster begonnen. Ga terug naar het lesmateriaal en begin opnieuw in deze browser.' },
    en: { title: 'Login started elsewhere', body: 'This login was started in another browser. Go back to the learning material and start again in this browser.' },
  },
  no_licence: {
    nl: { title: 'Geen licentie', body: 'Je school heeft geen licentie voor dit lesmateriaal. Vraag je leraar of de schooladministratie.' },
    en: { title: 'No licence', body: 'Your school has no licence for this learning material. Ask your teacher or the school office.' },
  },
  objection: {
    nl: { title: 'Gegevens niet gedeeld', body: 'Je school heeft vastgelegd dat jouw gegevens niet met dit lesmateriaal gedeeld worden. Daarom kun je hier niet inloggen. Vraag je leraar of de schooladministratie.' },
    en: { title: 'Data not shared', body: 'Your school has recorded that your data is not shared with this learning material, so you cannot log in here. Ask your teacher or the school office.' },
  },
  unknown_product: {
    nl: { title: 'Onbekend lesmateriaal', body: 'Je school wilde lesmateriaal openen dat de inlogdienst niet kent. Vraag je leraar of de schooladministratie.' },
    en: { title: 'Unknown learning material', body: 'Your school tried to open learning material the login service does not know. Ask your teacher or the school office.' },
  },
  launch_not_supported: {
    nl: { title: 'Openen via school kan niet', body: 'Dit lesmateriaal kan niet vanuit de omgeving van je school worden geopend. Open het via de website van het lesmateriaal.' },
    en: { title: 'Cannot open from school', body: "This learning material cannot be opened from your school's environment. Open it from the learning material's own website." },
  },
  launch_not_allowed: {
    nl: { title: 'Openen via school staat uit', body: 'Je school heeft het openen van lesmateriaal vanuit de eigen omgeving niet aangezet. Open het lesmateriaal via de website van het lesmateriaal.' },
    en: { title: 'Opening from school is off', body: "Your school has not turned on opening learning material from the school's environment. Open it from the learning material's own website." },
  },
  not_on_roster: {
    nl: { title: 'Niet bekend bij je school', body: 'Je bent ingelogd, maar je school heeft je (nog) niet aangemeld bij de inlogdienst. Vraag de schooladministratie om je toe te voegen.' },
    en: { title: 'Not known to your school', body: 'You are logged in, but your school has not (yet) registered you with the login service. Ask the school office to add you.' },
  },
  wrong_tenant: {
    nl: { title: 'Verkeerd account', body: 'Je logde in met een account dat niet bij deze school hoort. Log uit bij dat account en log in met je schoolaccount.' },
    en: { title: 'Wrong account', body: 'You logged in with an account that does not belong to this school. Log out of that account and log in with your school account.' },
  },
  upstream_denied: {
    nl: { title: 'Inloggen geweigerd', body: 'De inlogdienst van je school heeft het inloggen geweigerd of afgebroken. Ga terug naar het lesmateriaal en probeer het opnieuw.' },
    en: { title: 'Login refused', body: "Your school's login service refused or cancelled the login. Go back to the learning material and try again." },
  },
  upstream_invalid: LOGIN_FAILED,
  upstream_unavailable: {
    nl: { title: 'School niet bereikbaar', body: 'De inlogdienst van je school is nu niet bereikbaar. Probeer het over een paar minuten opnieuw.' },
    en: { title: 'School unavailable', body: "Your school's login service cannot be reached right now. Try again in a few minutes." },
  },
  school_unavailable: {
    nl: { title: 'School niet bereikbaar', body: 'De inlogdienst van je school is nu niet bereikbaar. Probeer het over een paar minuten opnieuw.' },
    en: { title: 'School unavailable', body: "Your school's login service cannot be reached right now. Try again in a few minutes." },
  },
  temporarily_unavailable: {
    nl: { title: 'Even niet beschikbaar', body: 'De inlogdienst is tijdelijk niet beschikbaar. Probeer het over een paar seconden opnieuw.' },
    en: { title: 'Temporarily unavailable', body: 'The login service is temporarily unavailable. Try again in a few seconds.' },
  },
  too_many_requests: {
    nl: { title: 'Te veel pogingen', body: 'Er komen nu te veel aanmeldingen tegelijk binnen. Wacht een minuut en probeer het dan opnieuw vanuit het lesmateriaal.' },
    en: { title: 'Too many attempts', body: 'Too many logins are arriving at once. Wait a minute, then try again from the learning material.' },
  },
  not_found: {
    nl: { title: 'Pagina niet gevonden', body: 'Deze pagina bestaat niet.' },
    en: { title: 'Page not found', body: 'This page does not exist.' },
  },
  server_error: {
    nl: { title: 'Er ging iets mis', body: 'Er ging iets mis bij de inlogdienst. Probeer het later opnieuw.' },
    en: { title: 'Something went wrong', body: 'Something went wrong at the login service. Please try again later.' },
  },
} satisfies Record<PageMessageCode, Message>;

/** The page text for an error code. */
export const messageFor = (code: PageMessageCode): Message => MESSAGES[code];
